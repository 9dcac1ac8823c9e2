import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loader.js';
import { redactedConfig } from '../../src/config/show.js';
import { createLogger, relayLogger } from '../../src/observability/logger.js';
import { clearRegisteredSecrets, redactText, registerSecret } from '../../src/observability/redact.js';

function capture() {
  const lines: string[] = [];
  return { lines, stream: { write: (line: string) => void lines.push(line) } };
}

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bigbrotr-secret-'));
  tempDirs.push(dir);
  return dir;
}
afterEach(() => {
  clearRegisteredSecrets();
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('secret redaction', () => {
  it('removes URL passwords even when nobody registered them', () => {
    expect(redactText('connect postgres://app:s3cr3t-pw@db:5432/x failed')).toBe('connect postgres://app:[REDACTED]@db:5432/x failed');
    expect(redactText('no secret here: wss://relay.example/')).toBe('no secret here: wss://relay.example/');
  });

  it('keeps *_FILE contents, URL passwords and keys out of every log line, including errors and child loggers', () => {
    const dir = tempDir();
    const urlFile = join(dir, 'url');
    writeFileSync(urlFile, 'postgres://archiver:file-only-pw-9431@db.internal/bigbrotr\n');
    const loaded = loadConfig({ env: { BIGBROTR_DATABASE_URL_FILE: urlFile } });
    for (const value of loaded.secretValues) registerSecret(value);
    const monitorKey = 'a'.repeat(63) + 'b';
    registerSecret(monitorKey);

    const { lines, stream } = capture();
    const logger = createLogger({ level: 'trace', format: 'json' }, { destination: stream });
    logger.info({ url: loaded.config.database.url }, 'opening database');
    logger.error({ err: new Error(`could not connect to ${loaded.config.database.url}`) }, 'database down');
    relayLogger(logger, 'wss://relay.example/').warn({ key: monitorKey }, `signing with ${monitorKey}`);
    logger.debug(`password is file-only-pw-9431 and encoded ${encodeURIComponent('file-only-pw-9431')}`);

    const output = lines.join('');
    expect(lines.length).toBe(4);
    expect(output).not.toContain('file-only-pw-9431');
    expect(output).not.toContain(monitorKey);
    expect(output).toContain('[REDACTED]');
    expect(output).toContain('"relay":"wss://relay.example/"');
    expect(output).toContain('db.internal');
  });

  it('config show redacts secrets but keeps the URL host visible', () => {
    const loaded = loadConfig({ env: { BIGBROTR_DATABASE_URL: 'postgres://u:pw-in-env-777@db.host:5432/archive' } });
    const shown = JSON.stringify(redactedConfig(loaded));
    expect(shown).not.toContain('pw-in-env-777');
    expect(shown).toContain('db.host:5432/archive');
    expect(shown).toContain('[REDACTED]');
  });

  it('config show hides a secret read from a file even when it is not a URL', () => {
    const dir = tempDir();
    const file = join(dir, 'dir');
    writeFileSync(file, '/var/lib/some-secret-dir');
    const loaded = loadConfig({ env: { BIGBROTR_DATABASE__DATA_DIR_FILE: file } });
    const shown = redactedConfig(loaded) as { database: { data_dir: string } };
    expect(shown.database.data_dir).toBe('[REDACTED]');
  });
});
