import { ConfigError } from '../config/errors.js';
import type { Config, DatabaseConfig } from '../config/schema.js';
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

/**
 * The read replica of `api.database_url` (the API, archive relay and dashboard read from it), with
 * the pool and TLS settings of `database.*`; undefined when the option is unset. Refused without
 * `database.url`: the embedded database has no replicas.
 */
export async function openReadReplica(config: Config, logger: Logger = silentLogger()): Promise<Database | undefined> {
  const url = config.api.database_url;
  if (url === undefined) return undefined;
  if (!config.database.url) {
    throw new ConfigError([
      {
        path: 'api.database_url',
        message: 'a read replica needs a PostgreSQL primary in database.url: the embedded database serves one process and has no replicas',
      },
    ]);
  }
  checkDatabasePassword(url, process.env, 'api.database_url');
  return openPostgres({ ...config.database, url }, logger, { field: 'api.database_url', applicationName: 'bigbrotr-api' });
}
