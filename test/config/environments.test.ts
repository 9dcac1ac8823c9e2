import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/config/loader.js';
import { secretPaths } from '../../src/config/schema-walk.js';
import { configSchema } from '../../src/config/schema.js';
import { packageRoot } from '../../src/package-root.js';
import { runCli } from '../support/cli.js';

const development = join(packageRoot(), 'config', 'development.yaml');
const production = join(packageRoot(), 'config', 'production.yaml');

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe('config/development.yaml and config/production.yaml', () => {
  it('load without problems, every value they set coming from the file', () => {
    for (const file of [development, production]) {
      const { config, sources } = loadConfig({ configFile: file, env: {} });
      expect(config.database.url, file).toBeUndefined();
      const tree = parseYaml(readFileSync(file, 'utf8')) as Record<string, Record<string, unknown>>;
      for (const [section, values] of Object.entries(tree)) {
        for (const key of Object.keys(values)) {
          expect(sources.get(`${section}.${key}`), `${section}.${key}`).toBe(`file ${file}`);
          expect((config as unknown as Record<string, Record<string, unknown>>)[section]?.[key], `${section}.${key}`).toEqual(values[key]);
        }
      }
    }
  });

  it('hold no secret: secret options come from env vars or *_FILE', () => {
    for (const file of [development, production]) {
      const tree = parseYaml(readFileSync(file, 'utf8')) as Record<string, Record<string, unknown>>;
      for (const path of secretPaths(configSchema)) {
        const [section, key] = path.split('.') as [string, string];
        expect(tree[section]?.[key], `${file}: ${path}`).toBeUndefined();
      }
    }
  });

  it('development: embedded database, debug logs, pretty, small concurrency', () => {
    const { config } = loadConfig({ configFile: development, env: {} });
    expect(config.database.data_dir).toBe('./data/development');
    expect(config.log).toEqual({ level: 'debug', format: 'pretty' });
    expect(config.http.host).toBe('127.0.0.1');
    expect(config.sync.concurrency).toBeLessThan(configSchema.parse({}).sync.concurrency);
    expect(config.monitor.concurrency).toBeLessThan(configSchema.parse({}).monitor.concurrency);
  });

  it('production: JSON logs, all interfaces behind a trusted proxy, larger concurrency, per-relay metrics off', () => {
    const { config } = loadConfig({ configFile: production, env: {} });
    const defaults = configSchema.parse({});
    expect(config.log).toEqual({ level: 'info', format: 'json' });
    expect(config.http.host).toBe('0.0.0.0');
    expect(config.api.trust_proxy).toBe(true);
    expect(config.sync.concurrency).toBeGreaterThan(defaults.sync.concurrency);
    expect(config.monitor.concurrency).toBeGreaterThan(defaults.monitor.concurrency);
    expect(config.sync.per_relay_metrics).toBe(false);
  });

  it('an env var overrides a file value; the database URL comes from BIGBROTR_DATABASE_URL_FILE as a secret', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bigbrotr-env-'));
    tempDirs.push(dir);
    const urlFile = join(dir, 'database_url');
    writeFileSync(urlFile, 'postgres://bigbrotr:s3cret-pass@db.internal:5432/bigbrotr\n');
    const loaded = loadConfig({
      configFile: production,
      env: { BIGBROTR_SYNC__CONCURRENCY: '64', BIGBROTR_LOG__FORMAT: 'pretty', BIGBROTR_DATABASE_URL_FILE: urlFile },
    });
    expect(loaded.config.sync.concurrency).toBe(64);
    expect(loaded.sources.get('sync.concurrency')).toBe('env BIGBROTR_SYNC__CONCURRENCY');
    expect(loaded.config.log.format).toBe('pretty');
    expect(loaded.config.log.level).toBe('info');
    expect(loaded.config.database.url).toBe('postgres://bigbrotr:s3cret-pass@db.internal:5432/bigbrotr');
    expect(loaded.secretPaths.has('database.url')).toBe(true);
    expect(loaded.secretValues).toContain('postgres://bigbrotr:s3cret-pass@db.internal:5432/bigbrotr');
  });

  it('bigbrotr --config config/production.yaml takes the file, and env vars win over it', async () => {
    const result = await runCli(['--config', 'config/production.yaml', 'config', 'show', '--json', '--sources'], {
      BIGBROTR_MONITOR__CONCURRENCY: '7',
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const shown = JSON.parse(result.stdout) as {
      config: { http: { host: string }; monitor: { concurrency: number } };
      sources: Record<string, string>;
    };
    expect(shown.config.http.host).toBe('0.0.0.0');
    expect(shown.sources['http.host']).toBe('file config/production.yaml');
    expect(shown.config.monitor.concurrency).toBe(7);
    expect(shown.sources['monitor.concurrency']).toBe('env BIGBROTR_MONITOR__CONCURRENCY');
  });
});
