/** Opens the configured database with the schema up to date, runs `fn`, and always closes it. */
import type { Database } from '../db/database.js';
import { migrate, type MigrateResult } from '../db/migrate.js';
import { openDatabase } from '../db/open.js';
import type { CommandContext } from './context.js';

export async function withDatabase<T>(context: CommandContext, fn: (db: Database, migration: MigrateResult) => Promise<T>): Promise<T> {
  const { loaded, logger } = context;
  const db = await openDatabase(loaded.config.database, logger);
  try {
    const migration = await migrate(db, { lockTimeoutMs: loaded.config.database.migrate_lock_timeout_ms, logger });
    return await fn(db, migration);
  } finally {
    await db.close();
  }
}
