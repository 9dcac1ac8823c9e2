/**
 * Forward-only migrations: `migrations/NNNN_name.sql`, applied in order, each in its own transaction,
 * recorded in `schema_migration` with a checksum. An advisory lock serialises concurrent runs, so any
 * number of processes may migrate at start-up. Editing an applied file is an error, not a silent skip.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../package-root.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import type { Database, Queryable } from './database.js';
import { DatabaseError } from './errors.js';

/** Arbitrary constant naming the migration lock ("bigbrotr" in ASCII, as a bigint). */
const MIGRATION_LOCK_KEY = 0x626967627274n;
const FILE_PATTERN = /^(\d{4})_[a-z0-9_]+\.sql$/;

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateResult {
  applied: string[];
  /** Name of the newest migration now in the database. */
  current: string;
}

export function migrationsDir(): string {
  return join(packageRoot(), 'migrations');
}

export function readMigrations(dir = migrationsDir()): MigrationFile[] {
  return readdirSync(dir)
    .filter((name) => FILE_PATTERN.test(name))
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

async function applyOne(session: Queryable, migration: MigrationFile): Promise<void> {
  await session.exec('BEGIN');
  try {
    await session.exec(migration.sql);
    await session.query('INSERT INTO schema_migration (name, checksum) VALUES ($1, $2)', [migration.name, migration.checksum]);
    await session.exec('COMMIT');
  } catch (error) {
    await session.exec('ROLLBACK').catch(() => undefined);
    throw new DatabaseError(`migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
  }
}

export async function migrate(
  db: Database,
  options: { lockTimeoutMs: number; logger?: Logger; dir?: string },
): Promise<MigrateResult> {
  const logger = options.logger ?? silentLogger();
  const migrations = readMigrations(options.dir);
  return db.withAdvisoryLock(MIGRATION_LOCK_KEY, options.lockTimeoutMs, async (session) => {
    await session.exec(
      `CREATE TABLE IF NOT EXISTS schema_migration (
         name text PRIMARY KEY,
         checksum text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const { rows } = await session.query<{ name: string; checksum: string }>('SELECT name, checksum FROM schema_migration ORDER BY name');
    const known = new Map(rows.map((row) => [row.name, row.checksum]));
    for (const name of known.keys()) {
      if (!migrations.some((migration) => migration.name === name)) {
        throw new DatabaseError(`the database has migration ${name}, which this version of bigbrotr does not know: upgrade bigbrotr`);
      }
    }
    const applied: string[] = [];
    for (const migration of migrations) {
      const recorded = known.get(migration.name);
      if (recorded !== undefined) {
        if (recorded !== migration.checksum) {
          throw new DatabaseError(`migration ${migration.name} was changed after it was applied (checksum differs); migrations are forward-only: add a new file instead`);
        }
        continue;
      }
      logger.info({ migration: migration.name }, `applying migration ${migration.name}`);
      await applyOne(session, migration);
      applied.push(migration.name);
    }
    return { applied, current: migrations[migrations.length - 1]?.name ?? '(none)' };
  });
}
