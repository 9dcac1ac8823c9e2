import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataDirLockedError, lockDataDir } from '../../src/db/data-dir-lock.js';

const dir = mkdtempSync(join(tmpdir(), 'bigbrotr-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('embedded database directory lock', () => {
  it('makes a second opener wait, then fail naming the directory and the owner', async () => {
    const dataDir = join(dir, 'a');
    const first = await lockDataDir(dataDir, 1_000);
    const started = Date.now();
    const error = await lockDataDir(dataDir, 300).catch((caught: unknown) => caught);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(error).toBeInstanceOf(DataDirLockedError);
    expect((error as Error).message).toContain(dataDir);
    expect((error as Error).message).toContain(`pid ${process.pid}`);
    first.release();
    const second = await lockDataDir(dataDir, 300);
    second.release();
    expect(existsSync(`${dataDir}.lock`)).toBe(false);
  });

  it('a waiting opener gets the lock as soon as it is released', async () => {
    const dataDir = join(dir, 'b');
    const first = await lockDataDir(dataDir, 1_000);
    setTimeout(() => first.release(), 150);
    const second = await lockDataDir(dataDir, 5_000);
    second.release();
  });

  it('takes over a lock left by a dead process (kill -9)', async () => {
    const dataDir = join(dir, 'c');
    writeFileSync(`${dataDir}.lock`, '999999999\n');
    const lock = await lockDataDir(dataDir, 300);
    lock.release();
  });
});
