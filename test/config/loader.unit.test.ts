import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loader.js';
import { ConfigError } from '../../src/config/errors.js';

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function tempFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'bigbrotr-config-'));
  tempDirs.push(dir);
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((problem) => `${problem.path}: ${problem.message}`);
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('gives every option its default with no sources at all', () => {
    const { config, sources } = loadConfig({ env: {} });
    expect(config.database.url).toBeUndefined();
    expect(config.database.data_dir).toBe('./data');
    expect(config.database.pool_size).toBe(10);
    expect(config.log.level).toBe('info');
    expect(config.http.port).toBe(9464);
    expect(sources.size).toBe(0);
  });

  it('layers file < env < *_FILE < overrides', () => {
    const file = tempFile('c.yaml', 'database:\n  pool_size: 3\n  statement_timeout_ms: 5000\nlog:\n  level: warn\nhttp:\n  port: 1000\n');
    const secretFile = tempFile('url', 'postgres://app:from-file-pw@db.example:5432/archive\n');
    const { config, sources } = loadConfig({
      configFile: file,
      env: {
        BIGBROTR_DATABASE__POOL_SIZE: '7',
        BIGBROTR_LOG_LEVEL: 'debug',
        BIGBROTR_DATABASE_URL: 'postgres://app:from-env-pw@db.example/archive',
        BIGBROTR_DATABASE_URL_FILE: secretFile,
      },
      overrides: { 'http.port': 2000 },
    });
    expect(config.database.statement_timeout_ms).toBe(5000);
    expect(config.database.pool_size).toBe(7);
    expect(config.log.level).toBe('debug');
    expect(config.database.url).toBe('postgres://app:from-file-pw@db.example:5432/archive');
    expect(config.http.port).toBe(2000);
    expect(sources.get('database.pool_size')).toBe('env BIGBROTR_DATABASE__POOL_SIZE');
    expect(sources.get('database.url')).toBe('file BIGBROTR_DATABASE_URL_FILE');
    expect(sources.get('database.statement_timeout_ms')).toBe(`file ${file}`);
  });

  it('treats BIGBROTR_SEED__FILE as the option seed.file, not as a *_FILE variant', () => {
    const { config, secretPaths } = loadConfig({ env: { BIGBROTR_SEED__FILE: '/srv/seeds.txt' } });
    expect(config.seed.file).toBe('/srv/seeds.txt');
    expect(secretPaths.has('seed.file')).toBe(false);
  });

  it('reads BIGBROTR_CONFIG when no file is given', () => {
    const file = tempFile('c.yaml', 'http:\n  port: 4321\n');
    expect(loadConfig({ env: { BIGBROTR_CONFIG: file } }).config.http.port).toBe(4321);
  });

  it('coerces env strings by the option type', () => {
    const { config } = loadConfig({
      env: { BIGBROTR_HTTP__ENABLED: 'false', BIGBROTR_RELAY_URL__ALLOW_PRIVATE: 'yes', BIGBROTR_HTTP__PORT: ' 99 ' },
    });
    expect(config.http.enabled).toBe(false);
    expect(config.relay_url.allow_private).toBe(true);
    expect(config.http.port).toBe(99);
  });

  it('lists every problem with its path and source', () => {
    const file = tempFile('c.yaml', 'database:\n  pool_size: -1\nlogs:\n  level: info\n');
    const problems = problemsOf(() =>
      loadConfig({ configFile: file, env: { BIGBROTR_VERIFY__WORKERS: 'abc', BIGBROTR_LOG__LEVEL: 'loud', BIGBROTR_NOPE__X: '1' } }),
    );
    expect(problems).toContain(`database.pool_size: expected a positive integer (connections), got -1 (from file ${file})`);
    expect(problems).toContain('verify.workers: expected a non-negative integer (threads), got "abc" (from env BIGBROTR_VERIFY__WORKERS)');
    expect(problems.some((line) => line.startsWith('log.level:') && line.includes('BIGBROTR_LOG__LEVEL'))).toBe(true);
    expect(problems).toContain(`logs: unknown option (from file ${file})`);
    expect(problems).toContain('nope: unknown option (from env BIGBROTR_NOPE__X)');
    expect(problems.length).toBe(5);
  });

  it('reports an unreadable config file and an unreadable *_FILE with their paths', () => {
    const problems = problemsOf(() =>
      loadConfig({ configFile: '/nonexistent/bigbrotr.yaml', env: { BIGBROTR_DATABASE_URL_FILE: '/nonexistent/secret' } }),
    );
    expect(problems.join('\n')).toContain('/nonexistent/bigbrotr.yaml');
    expect(problems.join('\n')).toContain('BIGBROTR_DATABASE_URL_FILE: cannot read /nonexistent/secret: ENOENT');
  });

  it('rejects YAML that is not a mapping and YAML with syntax errors', () => {
    expect(problemsOf(() => loadConfig({ configFile: tempFile('a.yaml', '- a\n- b\n'), env: {} }))[0]).toContain('expected a mapping');
    expect(problemsOf(() => loadConfig({ configFile: tempFile('b.yaml', 'database: [\n'), env: {} }))[0]).toContain('invalid YAML');
  });

  it('never puts a secret value into a problem message', () => {
    const secretFile = tempFile('s', 'hunter2-secret-value');
    const problems = problemsOf(() =>
      loadConfig({
        env: { BIGBROTR_DATABASE__SSL_MODE: 'hunter2-secret-value', BIGBROTR_DATABASE__URL_FILE: secretFile, BIGBROTR_HTTP__PORT: 'x' },
      }),
    );
    // ssl_mode is not secret: its bad value may be shown; the URL read from a file is valid and silent.
    expect(problems.join('\n')).toContain('database.ssl_mode');
    const secretProblems = problemsOf(() =>
      loadConfig({ env: { BIGBROTR_DATABASE__URL_FILE: secretFile }, overrides: { 'database.url': 12345 } }),
    );
    expect(secretProblems.join('\n')).toContain('database.url: invalid value (secret, not shown)');
  });
});
