/**
 * PostgreSQL through a `pg` pool: pool size, connect/idle/statement timeouts and TLS from config.
 * A broken idle connection is dropped by the pool and logged; it never crashes the process.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { DatabaseConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { Database, Queryable, QueryResult, Transaction } from './database.js';
import { DatabaseBusyError, DatabaseError, wrapDatabaseError } from './errors.js';
import { errorMessage } from '../error-message.js';

// int8 (counts, unix times) as numbers, like the PGlite adapter.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));

const LOCK_POLL_MS = 100;

function tlsOptions(config: DatabaseConfig): { connectionString: string; ssl?: boolean | ConnectionOptions } {
  const url = new URL(config.url as string);
  if (config.ssl_mode === 'prefer') return { connectionString: url.toString() };
  // An explicit mode wins over the URL's own sslmode (pg would otherwise let the URL override it).
  url.searchParams.delete('sslmode');
  const connectionString = url.toString();
  const ca = config.ssl_ca_file ? readFileSync(config.ssl_ca_file, 'utf8') : undefined;
  switch (config.ssl_mode) {
    case 'disable':
      return { connectionString, ssl: false };
    case 'require':
      return { connectionString, ssl: { rejectUnauthorized: false } };
    case 'verify-ca':
      return { connectionString, ssl: { rejectUnauthorized: true, ca, checkServerIdentity: () => undefined } };
    case 'verify-full':
      return { connectionString, ssl: { rejectUnauthorized: true, ca } };
  }
}

function queryableOf(client: pg.PoolClient | pg.Pool): Queryable {
  return {
    async query<Row>(sql: string, params?: unknown[]): Promise<QueryResult<Row>> {
      try {
        const result = await client.query(sql, params);
        return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.rows.length };
      } catch (error) {
        throw wrapDatabaseError(error, 'query failed');
      }
    },
    async exec(sql: string): Promise<void> {
      try {
        await client.query(sql);
      } catch (error) {
        throw wrapDatabaseError(error, 'script failed');
      }
    },
  };
}

function transactionOf(client: pg.PoolClient): Transaction {
  return {
    ...queryableOf(client),
    async copyFrom(target: string, data: Uint8Array): Promise<void> {
      try {
        await pipeline(Readable.from([data]), client.query(copyFrom(`COPY ${target} FROM STDIN (FORMAT binary)`)));
      } catch (error) {
        throw wrapDatabaseError(error, 'COPY failed');
      }
    },
  };
}

/** What to do when a pooler refuses the statement_timeout start-up parameter. */
const POOLER_STARTUP_PARAMETER_HINT =
  'a connection pooler (PgBouncer) refuses the statement_timeout start-up parameter that database.statement_timeout_ms sends: ' +
  'add statement_timeout to its ignore_startup_parameters and set the timeout on the database or role ' +
  '(ALTER DATABASE ... SET statement_timeout), or set database.statement_timeout_ms to 0 (docs/database.md)';

/** The first connection failed: the driver's reason, the server named (never the password), and a hint for known causes. */
function connectError(error: unknown, config: DatabaseConfig, field: string): DatabaseError {
  let server = 'PostgreSQL';
  try {
    const url = new URL(config.url as string);
    server = `PostgreSQL at ${url.host || 'the default socket'}`;
  } catch {
    // keep the generic name
  }
  if (field !== 'database.url') server = `${server} (${field})`;
  const wrapped = wrapDatabaseError(error, `cannot connect to ${server}`);
  const code = (error as { code?: unknown })?.code;
  let hint = '';
  if (/unsupported startup parameter/i.test(wrapped.message)) {
    // PgBouncer refuses start-up parameters it does not know, `statement_timeout` among them.
    hint = POOLER_STARTUP_PARAMETER_HINT;
  } else if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || /altnames/i.test(wrapped.message)) {
    hint = `with database.ssl_mode ${config.ssl_mode} the host in ${field} must be a name (or address) in the server's certificate`;
  } else if (/certificate|self[- ]signed|CERT_|UNABLE_TO_VERIFY/i.test(`${String(code)} ${wrapped.message}`)) {
    const caFile = config.ssl_ca_file ? ` (now ${config.ssl_ca_file})` : ' (not set: only the system CAs are trusted)';
    hint =
      `the server's TLS certificate was not accepted (database.ssl_mode ${config.ssl_mode}): ` +
      `database.ssl_ca_file must be the CA that signed it${caFile}`;
  }
  return hint ? new DatabaseError(`${wrapped.message}; ${hint}`, { cause: error, code: wrapped.code }) : wrapped;
}

/**
 * `options.field`: the option the URL came from, named in errors (`api.database_url` for the read
 * replica); `options.applicationName`: what pg_stat_activity shows.
 */
export async function openPostgres(
  config: DatabaseConfig,
  logger: Logger,
  options: { field?: string; applicationName?: string } = {},
): Promise<Database> {
  const field = options.field ?? 'database.url';
  const pool = createPool(config, logger, field, options.applicationName ?? 'bigbrotr');
  const database = databaseOverPool(pool, clientLender(pool, config, logger));
  // Fail fast with a clear error when the server is unreachable.
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw connectError(error, config, field);
  }
  return database;
}

function createPool(config: DatabaseConfig, logger: Logger, field: string, applicationName: string): pg.Pool {
  if (!config.url) throw new DatabaseError(`${field} is not set`);
  let connection: ReturnType<typeof tlsOptions>;
  try {
    connection = tlsOptions(config);
  } catch (error) {
    throw wrapDatabaseError(error, `invalid ${field} or database.ssl_ca_file`);
  }
  const pool = new pg.Pool({
    ...connection,
    max: config.pool_size,
    connectionTimeoutMillis: config.connect_timeout_ms,
    idleTimeoutMillis: config.idle_timeout_ms,
    statement_timeout: config.statement_timeout_ms || undefined,
    application_name: applicationName,
  });
  pool.on('error', (error) => {
    logger.warn(
      { err: wrapDatabaseError(error, 'idle PostgreSQL connection failed') },
      'PostgreSQL connection lost; the pool will open a new one',
    );
  });
  return pool;
}

type ClientLender = <T>(fn: (client: pg.PoolClient) => Promise<T>) => Promise<T>;

/**
 * Runs a function on a checked-out connection and gives it back, discarded when it broke. Requests
 * waiting for a pooled connection beyond ten per connection are refused at once (busy), not queued.
 */
function clientLender(pool: pg.Pool, config: DatabaseConfig, logger: Logger): ClientLender {
  const maxWaiting = config.pool_size * 10;
  const checkOut = async (): Promise<pg.PoolClient> => {
    if (pool.waitingCount >= maxWaiting)
      throw new DatabaseBusyError(`${pool.waitingCount} requests already wait for one of ${config.pool_size} PostgreSQL connections`);
    try {
      return await pool.connect();
    } catch (error) {
      if (/timeout exceeded when trying to connect/i.test(errorMessage(error)) && pool.totalCount >= config.pool_size) {
        throw new DatabaseBusyError(`no PostgreSQL connection of ${config.pool_size} became free within ${config.connect_timeout_ms} ms`);
      }
      throw wrapDatabaseError(error, 'cannot connect to PostgreSQL');
    }
  };
  return async (fn) => {
    const client = await checkOut();
    let broken = false;
    // A connection that drops while checked out (between two queries of a transaction) emits 'error'
    // on the client, not on the pool: without a listener that would crash the process.
    const onError = (error: Error) => {
      broken = true;
      logger.warn(
        { err: wrapDatabaseError(error, 'PostgreSQL connection in use failed') },
        'PostgreSQL connection lost during a transaction; it is discarded',
      );
    };
    client.on('error', onError);
    try {
      return await fn(client);
    } catch (error) {
      broken ||= error instanceof DatabaseError && error.isConnectionError;
      throw error;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  };
}

function databaseOverPool(pool: pg.Pool, withClient: ClientLender): Database {
  const base = queryableOf(pool);
  const database: Database = {
    kind: 'postgres',
    ...base,
    transaction: (fn) =>
      withClient(async (client) => {
        const tx = transactionOf(client);
        await tx.exec('BEGIN');
        try {
          const result = await fn(tx);
          await tx.exec('COMMIT');
          return result;
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
      }),
    // Transaction-scoped (released by COMMIT/ROLLBACK), never a session lock: behind PgBouncer in
    // transaction pooling mode a session lock could stay behind on a server connection.
    withAdvisoryLock: (key, timeoutMs, fn) =>
      database.transaction(async (tx) => {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const { rows } = await tx.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [key.toString()]);
          if (rows[0]?.locked) break;
          if (Date.now() >= deadline) throw new DatabaseError(`advisory lock ${key} still held by another process after ${timeoutMs} ms`);
          await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
        }
        return fn(tx);
      }),
    ping: async () => {
      await base.query('SELECT 1');
    },
    close: async () => {
      await pool.end().catch(() => undefined);
    },
  };
  return database;
}
