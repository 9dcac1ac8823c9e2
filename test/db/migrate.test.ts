import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { migrate, migrationsDir, readMigrations } from '../../src/db/migrate.js';
import { openDatabase } from '../../src/db/open.js';
import { DatabaseError } from '../../src/db/errors.js';
import { createScratchDatabase, createTestDatabase, testDatabaseKind } from '../support/database.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('migrations', () => {
  it('are numbered, and a second run applies nothing', async () => {
    const files = readMigrations();
    expect(files.length).toBeGreaterThan(0);
    expect(files.map((file) => file.name)).toEqual([...files.map((file) => file.name)].sort());
    const { db, dispose } = await createTestDatabase();
    cleanups.push(dispose);
    const again = await migrate(db, { lockTimeoutMs: 5_000 });
    expect(again.applied).toEqual([]);
    expect(again.current).toBe(files[files.length - 1]?.name);
    const { rows } = await db.query<{ name: string }>('SELECT name FROM schema_migration ORDER BY name');
    expect(rows.map((row) => row.name)).toEqual(files.map((file) => file.name));
  });

  it('let an older version run on a schema one release newer (rolling updates, rollback), but refuse an unknown older migration', async () => {
    const { db, dispose } = await createTestDatabase();
    cleanups.push(dispose);
    // A newer release applied one more migration; this release does not have the file.
    await db.query(`INSERT INTO schema_migration (name, checksum) VALUES ('9999_from_the_next_release.sql', 'x')`);
    const older = await migrate(db, { lockTimeoutMs: 5_000 });
    expect(older.applied).toEqual([]);
    // A migration this release should know but does not: a different history.
    await db.query(`INSERT INTO schema_migration (name, checksum) VALUES ('0001_a_branch.sql', 'y')`);
    await expect(migrate(db, { lockTimeoutMs: 5_000 })).rejects.toThrow(/0001_a_branch\.sql.*different version history/);
  });

  it('refuse a migration file changed after it was applied, naming it', async () => {
    const { db, dispose } = await createTestDatabase();
    cleanups.push(dispose);
    const dir = mkdtempSync(join(tmpdir(), 'bigbrotr-migrations-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    cpSync(migrationsDir(), dir, { recursive: true });
    const first = readMigrations(dir)[0]?.name as string;
    writeFileSync(join(dir, first), `${readMigrations(dir)[0]?.sql}\n-- edited\n`);
    const failure = await migrate(db, { lockTimeoutMs: 5_000, dir }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DatabaseError);
    expect((failure as Error).message).toContain(first);
    expect((failure as Error).message).toContain('changed after it was applied');
  });

  it('apply a new file in order and roll back a failing one completely', async () => {
    const { db, dispose } = await createTestDatabase();
    cleanups.push(dispose);
    const dir = mkdtempSync(join(tmpdir(), 'bigbrotr-migrations-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    cpSync(migrationsDir(), dir, { recursive: true });
    writeFileSync(join(dir, '9001_good.sql'), 'CREATE TABLE migration_probe (x int);');
    writeFileSync(join(dir, '9002_bad.sql'), 'CREATE TABLE migration_probe_2 (x int); SELECT no_such_function();');
    const failure = await migrate(db, { lockTimeoutMs: 5_000, dir }).catch((error: unknown) => error);
    expect((failure as Error).message).toContain('migration 9002_bad.sql failed');
    const tables = await db.query<{ name: string | null }>(
      `SELECT to_regclass('migration_probe')::text AS name UNION ALL SELECT to_regclass('migration_probe_2')::text`,
    );
    expect(tables.rows.map((row) => row.name)).toEqual(['migration_probe', null]);
  });

  it.runIf(testDatabaseKind === 'postgres')('are safe when several processes migrate the same database at once', async () => {
    const scratch = await createScratchDatabase();
    cleanups.push(scratch.dispose);
    const databases = await Promise.all([1, 2, 3].map(() => openDatabase(scratch.config)));
    cleanups.push(async () => void (await Promise.all(databases.map((db) => db.close()))));
    const results = await Promise.all(databases.map((db) => migrate(db, { lockTimeoutMs: 30_000 })));
    expect(results.filter((result) => result.applied.length > 0).length).toBe(1);
    const { rows } = await (databases[0] as (typeof databases)[number]).query<{ count: number }>(
      'SELECT count(*) AS count FROM schema_migration',
    );
    expect(rows[0]?.count).toBe(readMigrations().length);
  });
});
