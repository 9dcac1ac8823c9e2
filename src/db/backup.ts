/**
 * Backups and restores of the whole database (docs/database.md).
 *
 * PostgreSQL: `pg_dump --format=custom` and `pg_restore`, found on this machine (newest
 * /usr/lib/postgresql/N/bin first, then PATH, or a given directory). The connection goes to them
 * as libpq environment variables; the password only ever in a temporary pgpass file (mode 0600,
 * removed afterwards), never on a command line or in a log line.
 *
 * Embedded PGlite: the data directory as a gzipped tarball (`dumpDataDir`), taken while holding the
 * data-directory lock (so no bigbrotr process writes meanwhile), after a CHECKPOINT; restored by
 * creating a fresh PGlite with `loadDataDir`.
 *
 * Restores go into an empty target; a non-empty one is refused unless `force` (PostgreSQL: every
 * object of the target is dropped first, in one transaction, then the dump is restored in another;
 * PGlite: the data directory is replaced). A backup is written to a temporary file and renamed, so a failed one never replaces
 * an earlier file of the same name.
 */
import { execFile } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { DatabaseConfig } from '../config/schema.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import { redactText } from '../observability/redact.js';
import { lockDataDir } from './data-dir-lock.js';
import { DatabaseError } from './errors.js';
import { openDatabase } from './open.js';
import { errorMessage } from '../error-message.js';

/** What a missing pg_dump / pg_restore asks the operator to do. */
const INSTALL_CLIENT_TOOLS =
  "install the PostgreSQL client tools of the server's major version or newer (e.g. apt-get install postgresql-client), " +
  'or pass --pg-bin-dir';
/** Why a restore stops at a database that holds objects, and the two ways on. */
const RESTORE_INTO_EMPTY_DATABASE = 'restore into a new, empty database (createdb), or pass --force to drop everything in it first';
const RESTORE_INTO_EMPTY_DIRECTORY = 'restore into a new directory, or pass --force to replace the embedded database in it';

export type BackupFormat = 'pg_dump' | 'pglite';

/** A backup or restore that cannot be done as asked (missing tool, wrong file, non-empty target). */
export class BackupError extends Error {
  constructor(message: string) {
    super(redactText(message));
    this.name = 'BackupError';
  }
}

export interface BackupResult {
  database: 'postgres' | 'pglite';
  format: BackupFormat;
  file: string;
  bytes: number;
}

export interface RestoreResult {
  database: 'postgres' | 'pglite';
  format: BackupFormat;
  file: string;
  /** Newest migration in the restored database (undefined: it has no schema_migration table). */
  schema: string | undefined;
  /** Whether a non-empty target was replaced (`force`). */
  replaced: boolean;
}

export interface BackupToolOptions {
  logger?: Logger;
  /** Directory holding pg_dump / pg_restore; default: newest /usr/lib/postgresql/N/bin, then PATH. */
  pgBinDir?: string;
}

// ---------------------------------------------------------------------------------------------
// Finding pg_dump and pg_restore
// ---------------------------------------------------------------------------------------------

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Versioned client directories of Debian/Ubuntu, newest first (a newer pg_dump reads older servers). */
function versionedBinDirs(): string[] {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((name) => /^\d+(\.\d+)?$/.test(name))
    .sort((a, b) => Number(b) - Number(a))
    .map((name) => join(root, name, 'bin'));
}

export function findPgTool(name: 'pg_dump' | 'pg_restore', pgBinDir?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (pgBinDir) {
    const path = join(pgBinDir, name);
    if (isExecutable(path)) return path;
    throw new BackupError(`${name} not found in ${pgBinDir} (--pg-bin-dir)`);
  }
  const pathDirs = (env.PATH ?? '').split(':').filter(Boolean);
  for (const dir of [...versionedBinDirs(), ...pathDirs, '/usr/local/pgsql/bin', '/opt/homebrew/bin', '/usr/local/bin']) {
    const path = join(dir, name);
    if (isExecutable(path)) return path;
  }
  throw new BackupError(`${name} not found (looked in /usr/lib/postgresql/*/bin and PATH): ${INSTALL_CLIENT_TOOLS}`);
}

// ---------------------------------------------------------------------------------------------
// The connection as libpq environment variables
// ---------------------------------------------------------------------------------------------

/** Escapes a pgpass field (`\` and `:`). */
function pgpassField(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/:/g, '\\:');
}

function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

interface LibpqConnection {
  env: NodeJS.ProcessEnv;
  database: string;
  cleanup(): void;
}

/**
 * The environment for pg_dump / pg_restore: the parent's minus every PG* variable, plus PGHOST, PGPORT,
 * PGUSER, PGDATABASE, TLS settings, and PGPASSFILE pointing at a private temporary pgpass file when the
 * URL has a password.
 */
export function libpqConnection(config: DatabaseConfig, parentEnv: NodeJS.ProcessEnv = process.env): LibpqConnection {
  if (!config.url) throw new BackupError('database.url is not set');
  let url: URL;
  try {
    url = new URL(config.url);
  } catch {
    throw new BackupError('database.url is not a valid URL');
  }
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(parentEnv)) if (!name.startsWith('PG')) env[name] = value;
  const query = url.searchParams;
  const host = query.get('host') ?? decode(url.hostname);
  const database =
    query.get('dbname') ?? query.get('db') ?? (decode(url.pathname.replace(/^\//, '')) || decode(url.username) || 'postgres');
  const user = decode(url.username) || query.get('user') || '';
  const password = decode(url.password) || query.get('password') || '';
  if (host) env.PGHOST = host;
  if (url.port || query.get('port')) env.PGPORT = url.port || (query.get('port') as string);
  if (user) env.PGUSER = user;
  env.PGDATABASE = database;
  env.PGAPPNAME = 'bigbrotr-backup';
  env.PGCONNECT_TIMEOUT = String(Math.max(2, Math.ceil(config.connect_timeout_ms / 1000)));
  const sslmode = config.ssl_mode === 'prefer' ? query.get('sslmode') : config.ssl_mode;
  if (sslmode) env.PGSSLMODE = sslmode === 'no-verify' ? 'require' : sslmode;
  const rootCert = config.ssl_ca_file ?? query.get('sslrootcert');
  if (rootCert) env.PGSSLROOTCERT = rootCert;
  if (query.get('sslcert')) env.PGSSLCERT = query.get('sslcert') as string;
  if (query.get('sslkey')) env.PGSSLKEY = query.get('sslkey') as string;
  let dir: string | undefined;
  if (password) {
    dir = mkdtempSync(join(tmpdir(), 'bigbrotr-pgpass-'));
    chmodSync(dir, 0o700);
    const file = join(dir, 'pgpass');
    writeFileSync(file, `*:*:*:*:${pgpassField(password)}\n`, { mode: 0o600 });
    env.PGPASSFILE = file;
  }
  return { env, database, cleanup: () => dir && rmSync(dir, { recursive: true, force: true }) };
}

function run(tool: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    execFile(tool, args, { env, maxBuffer: 64 * 1024 * 1024 }, (error, _stdout, stderr) => {
      if (!error) return resolvePromise();
      const code = typeof error.code === 'number' ? `exit code ${error.code}` : String(error.code ?? error.signal ?? 'failed');
      const output = String(stderr).trim().split('\n').slice(-20).join('\n');
      reject(new BackupError(`${basename(tool)} failed (${code})${output ? `:\n${output}` : ''}`));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------

/** What a backup file holds, from its first bytes: pg_dump's custom format, or a (gzipped) tarball of a PGlite data directory. */
export function detectBackupFormat(file: string): BackupFormat | undefined {
  const head = Buffer.alloc(512);
  let read: number;
  try {
    const fd = openSync(file, 'r');
    try {
      read = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw new BackupError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  if (read >= 5 && head.subarray(0, 5).toString('latin1') === 'PGDMP') return 'pg_dump';
  if (read >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'pglite';
  if (read >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') return 'pglite';
  return undefined;
}

function temporaryPath(output: string): string {
  return join(dirname(output), `.${basename(output)}.${process.pid}.partial`);
}

function finish(temporary: string, output: string): number {
  renameSync(temporary, output);
  return statSync(output).size;
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------------------------

/** Tables, views, sequences… outside the system schemas: what makes a database "not empty". */
async function postgresObjectCount(config: DatabaseConfig, logger: Logger): Promise<number> {
  const db = await openDatabase(config, logger);
  try {
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
         AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')`,
    );
    return rows[0]?.n ?? 0;
  } finally {
    await db.close();
  }
}

/**
 * Empties the target for `--force`: every schema but public and the system ones, and everything in
 * public that no extension owns, in one transaction. (`pg_restore --clean` cannot do it: it trips
 * over the constraints partitions inherit.)
 */
const DROP_EVERYTHING_SQL = `
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT nspname FROM pg_namespace
           WHERE nspname NOT IN ('public', 'information_schema') AND nspname NOT LIKE 'pg\\_%' LOOP
    EXECUTE format('DROP SCHEMA %I CASCADE', r.nspname);
  END LOOP;
  FOR r IN SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND NOT c.relispartition
             AND NOT EXISTS (SELECT 1 FROM pg_depend d
                             WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
           -- Tables before sequences: a table takes its identity and serial sequences with it.
           ORDER BY CASE c.relkind WHEN 'v' THEN 0 WHEN 'm' THEN 0 WHEN 'S' THEN 2 ELSE 1 END LOOP
    EXECUTE format('DROP %s IF EXISTS public.%I CASCADE',
      CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
                     WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
      r.relname);
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure::text AS signature, p.prokind FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'public'
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e') LOOP
    EXECUTE format('DROP %s IF EXISTS %s CASCADE',
      CASE r.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END, r.signature);
  END LOOP;
  FOR r IN SELECT t.oid::regtype::text AS name, t.typtype FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
           WHERE n.nspname = 'public' AND t.typtype IN ('e', 'c', 'd', 'r')
             AND (t.typrelid = 0 OR EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'c'))
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e') LOOP
    EXECUTE format('DROP %s IF EXISTS %s CASCADE', CASE r.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, r.name);
  END LOOP;
END $$`;

async function emptyPostgres(config: DatabaseConfig, logger: Logger): Promise<void> {
  const db = await openDatabase(config, logger);
  try {
    await db.transaction((tx) => tx.exec(DROP_EVERYTHING_SQL));
  } finally {
    await db.close();
  }
}

async function backupPostgres(config: DatabaseConfig, output: string, options: BackupToolOptions): Promise<BackupResult> {
  const logger = options.logger ?? silentLogger();
  const tool = findPgTool('pg_dump', options.pgBinDir);
  const connection = libpqConnection(config);
  const temporary = temporaryPath(output);
  try {
    logger.info({ tool, database: connection.database, file: output }, 'pg_dump started');
    await run(tool, ['--format=custom', '--no-password', `--file=${temporary}`], connection.env);
    const bytes = finish(temporary, output);
    return { database: 'postgres', format: 'pg_dump', file: output, bytes };
  } finally {
    rmSync(temporary, { force: true });
    connection.cleanup();
  }
}

async function restorePostgres(
  config: DatabaseConfig,
  input: string,
  options: BackupToolOptions & { force?: boolean; noOwner?: boolean },
): Promise<RestoreResult> {
  const logger = options.logger ?? silentLogger();
  const tool = findPgTool('pg_restore', options.pgBinDir);
  const objects = await postgresObjectCount(config, logger);
  if (objects > 0 && !options.force) {
    throw new BackupError(`the target database is not empty (${objects} tables, views or sequences): ${RESTORE_INTO_EMPTY_DATABASE}`);
  }
  if (objects > 0) {
    logger.warn({ objects }, 'restore --force: dropping every object of the target database before restoring');
    await emptyPostgres(config, logger);
  }
  const connection = libpqConnection(config);
  try {
    const args = ['--no-password', '--exit-on-error', '--single-transaction', `--dbname=${connection.database}`];
    if (options.noOwner) args.push('--no-owner', '--no-privileges');
    args.push(input);
    logger.info({ tool, database: connection.database, file: input, replacing: objects > 0 }, 'pg_restore started');
    await run(tool, args, connection.env);
  } finally {
    connection.cleanup();
  }
  // pg_restore does not restore planner statistics.
  const db = await openDatabase(config, logger);
  try {
    await db.exec('ANALYZE');
    return { database: 'postgres', format: 'pg_dump', file: input, schema: await newestMigration(db), replaced: objects > 0 };
  } finally {
    await db.close();
  }
}

async function newestMigration(db: { query<Row>(sql: string): Promise<{ rows: Row[] }> }): Promise<string | undefined> {
  const { rows } = await db.query<{ found: boolean }>(`SELECT to_regclass('schema_migration') IS NOT NULL AS found`);
  if (!rows[0]?.found) return undefined;
  const newest = await db.query<{ name: string | null }>('SELECT max(name) AS name FROM schema_migration');
  return newest.rows[0]?.name ?? undefined;
}

// ---------------------------------------------------------------------------------------------
// PGlite
// ---------------------------------------------------------------------------------------------

function startParams(config: DatabaseConfig): string[] | undefined {
  return config.embedded_settings.length
    ? [...PGlite.defaultStartParams, ...config.embedded_settings.flatMap((setting) => ['-c', setting])]
    : undefined;
}

function hasDatabase(directory: string): boolean {
  return existsSync(join(directory, 'PG_VERSION'));
}

async function backupPglite(config: DatabaseConfig, output: string, options: BackupToolOptions): Promise<BackupResult> {
  const logger = options.logger ?? silentLogger();
  const directory = resolve(config.data_dir);
  if (!hasDatabase(directory)) throw new BackupError(`there is no embedded database in ${directory} (database.data_dir)`);
  const lock = await lockDataDir(directory, config.data_dir_wait_ms);
  const temporary = temporaryPath(output);
  try {
    const params = startParams(config);
    const pg = await PGlite.create({ dataDir: directory, ...(params ? { startParams: params } : {}) });
    try {
      await pg.exec('CHECKPOINT');
      logger.info({ dataDir: directory, file: output }, 'dumping the embedded database');
      const tarball = await pg.dumpDataDir('gzip');
      writeFileSync(temporary, Buffer.from(await tarball.arrayBuffer()), { mode: 0o600 });
    } finally {
      await pg.close();
    }
    const bytes = finish(temporary, output);
    return { database: 'pglite', format: 'pglite', file: output, bytes };
  } finally {
    rmSync(temporary, { force: true });
    lock.release();
  }
}

async function restorePglite(
  config: DatabaseConfig,
  input: string,
  options: BackupToolOptions & { force?: boolean },
): Promise<RestoreResult> {
  const logger = options.logger ?? silentLogger();
  const directory = resolve(config.data_dir);
  const lock = await lockDataDir(directory, config.data_dir_wait_ms);
  try {
    const occupied = existsSync(directory) && readdirSync(directory).length > 0;
    if (occupied && !options.force) {
      throw new BackupError(`the target ${directory} (database.data_dir) is not empty: ${RESTORE_INTO_EMPTY_DIRECTORY}`);
    }
    // --force replaces an embedded database, never a directory of other files.
    if (occupied && !hasDatabase(directory)) {
      throw new BackupError(
        `the target ${directory} (database.data_dir) holds files but no embedded database: not replacing it, even with --force`,
      );
    }
    if (occupied) rmSync(directory, { recursive: true, force: true });
    mkdirSync(directory, { recursive: true });
    logger.info({ dataDir: directory, file: input, replacing: occupied }, 'loading the embedded database');
    const params = startParams(config);
    let pg: PGlite;
    try {
      pg = await PGlite.create({
        dataDir: directory,
        loadDataDir: new Blob([readFileSync(input)]),
        ...(params ? { startParams: params } : {}),
      });
    } catch (error) {
      rmSync(directory, { recursive: true, force: true });
      throw new BackupError(`cannot load ${input} into ${directory}: ${errorMessage(error)}`);
    }
    try {
      const schema = await newestMigration(pg);
      await pg.exec('ANALYZE');
      return { database: 'pglite', format: 'pglite', file: input, schema, replaced: occupied };
    } finally {
      await pg.close();
    }
  } finally {
    lock.release();
  }
}

// ---------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------

/** Backs up the configured database (PostgreSQL when `database.url` is set, else the embedded one) to `output`. */
export async function backupDatabase(config: DatabaseConfig, output: string, options: BackupToolOptions = {}): Promise<BackupResult> {
  const target = resolve(output);
  if (!existsSync(dirname(target))) throw new BackupError(`the directory of ${target} does not exist`);
  try {
    return config.url ? await backupPostgres(config, target, options) : await backupPglite(config, target, options);
  } catch (error) {
    if (error instanceof BackupError || error instanceof DatabaseError) throw error;
    throw new BackupError(`backup failed: ${errorMessage(error)}`);
  }
}

/** Restores `input` into the configured database, which must be empty unless `force`. */
export async function restoreDatabase(
  config: DatabaseConfig,
  input: string,
  options: BackupToolOptions & { force?: boolean; noOwner?: boolean } = {},
): Promise<RestoreResult> {
  const source = resolve(input);
  const format = detectBackupFormat(source);
  if (format === undefined)
    throw new BackupError(`${source} is neither a pg_dump custom-format archive nor a bigbrotr backup of the embedded database`);
  if (format === 'pglite' && config.url) {
    throw new BackupError(
      `${source} is a backup of the embedded database (PGlite): it restores into database.data_dir, with database.url unset`,
    );
  }
  if (format === 'pg_dump' && !config.url) {
    throw new BackupError(
      `${source} is a pg_dump archive of a PostgreSQL database: set database.url to the (empty) database to restore it into`,
    );
  }
  try {
    return config.url ? await restorePostgres(config, source, options) : await restorePglite(config, source, options);
  } catch (error) {
    if (error instanceof BackupError || error instanceof DatabaseError) throw error;
    throw new BackupError(`restore failed: ${errorMessage(error)}`);
  }
}
