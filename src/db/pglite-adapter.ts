/**
 * The embedded database: PGlite (PostgreSQL compiled to WASM) in a data directory, or in memory for
 * tests (`memory://`). One process at a time: a lock file guards the directory.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite, types } from '@electric-sql/pglite';
import type { Database, Queryable, QueryResult, Transaction } from './database.js';
import { lockDataDir, type DataDirLock } from './data-dir-lock.js';
import { wrapDatabaseError } from './errors.js';

export const IN_MEMORY = 'memory://';

const parsers = {
  // Counts and unix times fit in a double; keep them numbers on both adapters.
  [types.INT8]: (value: string) => Number(value),
};

function queryableOf(target: Pick<PGlite, 'query' | 'exec'>): Queryable {
  return {
    async query<Row>(sql: string, params?: unknown[]): Promise<QueryResult<Row>> {
      try {
        const result = await target.query<Row>(sql, params);
        return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
      } catch (error) {
        throw wrapDatabaseError(error, 'query failed');
      }
    },
    async exec(sql: string): Promise<void> {
      try {
        await target.exec(sql);
      } catch (error) {
        throw wrapDatabaseError(error, 'script failed');
      }
    },
  };
}

function transactionOf(tx: Pick<PGlite, 'query' | 'exec'>): Transaction {
  return {
    ...queryableOf(tx),
    async copyFrom(target: string, data: Uint8Array): Promise<void> {
      try {
        // PGlite reads the file /dev/blob from the query's `blob` option.
        await tx.query(`COPY ${target} FROM '/dev/blob' (FORMAT binary)`, [], { blob: new Blob([data]) });
      } catch (error) {
        throw wrapDatabaseError(error, 'COPY failed');
      }
    },
  };
}

/**
 * Creates a new data directory in a child process (see pglite-init.ts), so this process never holds
 * initdb's WebAssembly heap. Under tsx (tests) the child runs the TypeScript source the same way.
 */
async function initializeInChild(directory: string, settings: readonly string[]): Promise<void> {
  const source = fileURLToPath(new URL(import.meta.url));
  const script = source.replace(/pglite-adapter\.(ts|js)$/, 'pglite-init.$1');
  const args = source.endsWith('.ts') ? ['--import', 'tsx', script] : [script];
  await new Promise<void>((resolveInit, reject) => {
    const child = spawn(process.execPath, [...args, directory, ...settings], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolveInit()
        : reject(new Error(`creating the embedded database failed (exit ${code}): ${stderr.trim().slice(0, 500)}`)),
    );
  });
}

export async function openPglite(dataDir: string, options: { lockTimeoutMs: number; settings?: readonly string[] }): Promise<Database> {
  let lock: DataDirLock | undefined;
  let pg: PGlite;
  // Server settings (`name=value`) as start-up `-c` options, after PGlite's own.
  const startParams = options.settings?.length
    ? [...PGlite.defaultStartParams, ...options.settings.flatMap((setting) => ['-c', setting])]
    : undefined;
  try {
    if (dataDir === IN_MEMORY) {
      pg = await PGlite.create({ parsers, ...(startParams ? { startParams } : {}) });
    } else {
      const directory = resolve(dataDir);
      mkdirSync(directory, { recursive: true });
      lock = await lockDataDir(directory, options.lockTimeoutMs);
      if (!existsSync(join(directory, 'PG_VERSION'))) await initializeInChild(directory, options.settings ?? []);
      pg = await PGlite.create({ dataDir: directory, parsers, ...(startParams ? { startParams } : {}) });
    }
  } catch (error) {
    lock?.release();
    throw wrapDatabaseError(error, `cannot open the embedded database in ${dataDir}`);
  }
  const base = queryableOf(pg);
  let closed = false;
  return {
    kind: 'pglite',
    ...base,
    transaction: (fn) => pg.transaction((tx) => fn(transactionOf(tx))),
    // One process and one connection (the data-dir lock guarantees it): nothing else can interleave.
    withAdvisoryLock: (_key, _timeoutMs, fn) => fn(base),
    ping: async () => {
      await base.query('SELECT 1');
    },
    close: async () => {
      if (closed) return;
      closed = true;
      try {
        await pg.close();
      } finally {
        lock?.release();
      }
    },
  };
}
