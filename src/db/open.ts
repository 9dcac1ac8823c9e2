import type { DatabaseConfig } from '../config/schema.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import type { Database } from './database.js';
import { openPglite } from './pglite-adapter.js';
import { openPostgres } from './postgres-adapter.js';
import { checkDatabasePassword } from './password-policy.js';

/** PostgreSQL when `database.url` is set, else the embedded PGlite database in `database.data_dir`. */
export async function openDatabase(config: DatabaseConfig, logger: Logger = silentLogger()): Promise<Database> {
  if (config.url) {
    // A server reached over the network needs a strong password (src/db/password-policy.ts).
    checkDatabasePassword(config.url);
    return openPostgres(config, logger);
  }
  return openPglite(config.data_dir, { lockTimeoutMs: config.data_dir_wait_ms, settings: config.embedded_settings });
}
