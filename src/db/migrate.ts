/**
 * Forward-only migrations: `migrations/NNNN_name.sql`, applied in order, recorded in `schema_migration`
 * with a checksum. Editing an applied file is an error, not a silent skip.
 *
 * A run is one transaction holding a transaction-scoped advisory lock (`pg_try_advisory_xact_lock`), so
 * any number of processes may migrate at start-up, also through PgBouncer in transaction pooling mode
 * (a session lock could be taken on one server connection and released on another). Each migration
 * runs under a savepoint: a failing one is rolled back completely while the ones before it in the run
 * are committed. The run sets no statement timeout (`SET LOCAL statement_timeout = 0`): a migration on a
 * large archive may take longer than the services' per-statement limit.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../package-root.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import type { Database, Queryable } from './database.js';
import { DatabaseError } from './errors.js';
import { errorMessage } from '../error-message.js';

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

const LOCK_POLL_MS = 100;

/** Waits (polling, so the wait itself is bounded by `timeoutMs`) for the transaction-scoped migration lock. */
async function lockForTransaction(tx: Queryable, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await tx.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [MIGRATION_LOCK_KEY.toString()]);
    if (rows[0]?.locked) return;
    if (Date.now() >= deadline)
      throw new DatabaseError(`advisory lock ${MIGRATION_LOCK_KEY} still held by another process after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
  }
}

/** Applies one migration under a savepoint; on failure rolls back to it and returns the error. */
async function applyOne(tx: Queryable, migration: MigrationFile): Promise<DatabaseError | undefined> {
  await tx.exec('SAVEPOINT bigbrotr_migration');
  try {
    await tx.exec(migration.sql);
    await tx.query('INSERT INTO schema_migration (name, checksum) VALUES ($1, $2)', [migration.name, migration.checksum]);
    await tx.exec('RELEASE SAVEPOINT bigbrotr_migration');
    return undefined;
  } catch (error) {
    await tx.exec('ROLLBACK TO SAVEPOINT bigbrotr_migration');
    return new DatabaseError(`migration ${migration.name} failed: ${errorMessage(error)}`, { cause: error });
  }
}

export async function migrate(db: Database, options: { lockTimeoutMs: number; logger?: Logger; dir?: string }): Promise<MigrateResult> {
  const logger = options.logger ?? silentLogger();
  const migrations = readMigrations(options.dir);
  const outcome = await db.transaction(async (tx) => {
    await tx.exec('SET LOCAL statement_timeout = 0');
    await lockForTransaction(tx, options.lockTimeoutMs);
    const known = await appliedMigrations(tx);
    checkHistory(known, migrations, logger);
    const applied: string[] = [];
    for (const migration of migrations) {
      const recorded = known.get(migration.name);
      if (recorded !== undefined) {
        if (recorded !== migration.checksum) {
          throw new DatabaseError(
            `migration ${migration.name} was changed after it was applied (checksum differs); ` +
              'migrations are forward-only: add a new file instead',
          );
        }
        continue;
      }
      logger.info({ migration: migration.name }, `applying migration ${migration.name}`);
      const failure = await applyOne(tx, migration);
      // Commit what was applied before the failing migration, then report it.
      if (failure) return { applied, failure };
      applied.push(migration.name);
    }
    return { applied, failure: undefined };
  });
  if (outcome.failure) throw outcome.failure;
  return { applied: outcome.applied, current: migrations[migrations.length - 1]?.name ?? '(none)' };
}

/** The migrations the database has applied, by name, with their checksums (the table created when missing). */
async function appliedMigrations(tx: Queryable): Promise<Map<string, string>> {
  // Checked before creating: `CREATE TABLE IF NOT EXISTS` needs CREATE on the schema even when the
  // table exists, and the writer and reader roles (docs/database.md) do not have it.
  const { rows: table } = await tx.query<{ found: boolean }>(`SELECT to_regclass('schema_migration') IS NOT NULL AS found`);
  if (!table[0]?.found) {
    await tx.exec(
      `CREATE TABLE schema_migration (
         name text PRIMARY KEY,
         checksum text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
  }
  const { rows } = await tx.query<{ name: string; checksum: string }>('SELECT name, checksum FROM schema_migration ORDER BY name');
  return new Map(rows.map((row) => [row.name, row.checksum]));
}

/**
 * Migrations newer than ours come from the next release, which keeps the schema backward compatible
 * for one release (docs/upgrades.md): an older process keeps working during a rolling update or a
 * rollback. An unknown migration among ours is a different branch of history: refuse it.
 */
function checkHistory(known: Map<string, string>, migrations: readonly { name: string }[], logger: Logger): void {
  const latestOurs = migrations[migrations.length - 1]?.name ?? '';
  const newer: string[] = [];
  for (const name of known.keys()) {
    if (migrations.some((migration) => migration.name === name)) continue;
    if (name > latestOurs) newer.push(name);
    else
      throw new DatabaseError(
        `the database has migration ${name}, which this version of bigbrotr does not know and which is older than ` +
          `its own latest (${latestOurs}): this database belongs to a different version history`,
      );
  }
  if (newer.length > 0) {
    logger.warn(
      { newer },
      `the database schema is newer than this version of bigbrotr (${newer.join(', ')}); ` +
        'running on it, as one release of backward compatibility allows: upgrade this process',
    );
  }
}
