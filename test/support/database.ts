/**
 * Databases for tests. With BIGBROTR_DATABASE_URL set, each test database is a fresh PostgreSQL
 * database created on that server and dropped afterwards; otherwise PGlite (in memory, or in a fresh
 * directory for child processes). The same test files run unchanged on both.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { DatabaseConfig } from '../../src/config/schema.js';
import { databaseSchema } from '../../src/config/schema.js';
import type { Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { openDatabase } from '../../src/db/open.js';
import { IN_MEMORY } from '../../src/db/pglite-adapter.js';

export const serverUrl = process.env.BIGBROTR_DATABASE_URL;
export const testDatabaseKind: 'pglite' | 'postgres' = serverUrl ? 'postgres' : 'pglite';

let counter = 0;

async function adminQuery(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

interface ScratchDatabase {
  config: DatabaseConfig;
  dispose(): Promise<void>;
}

/** A fresh, empty database (not opened). */
export async function createScratchDatabase(options: { onDisk?: boolean; poolSize?: number } = {}): Promise<ScratchDatabase> {
  const defaults = databaseSchema.parse({});
  if (!serverUrl) {
    if (!options.onDisk) return { config: { ...defaults, data_dir: IN_MEMORY }, dispose: async () => {} };
    const dir = mkdtempSync(join(tmpdir(), 'bigbrotr-test-db-'));
    return { config: { ...defaults, data_dir: join(dir, 'data') }, dispose: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  counter += 1;
  const name = `bigbrotr_test_${process.pid}_${Date.now().toString(36)}_${counter}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    config: { ...defaults, url: url.toString(), pool_size: options.poolSize ?? 4 },
    dispose: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

export interface TestDatabase {
  db: Database;
  config: DatabaseConfig;
  dispose(): Promise<void>;
}

/** A fresh, migrated, open database (`poolSize`: PostgreSQL connections, default 4). */
export async function createTestDatabase(options: { poolSize?: number } = {}): Promise<TestDatabase> {
  const scratch = await createScratchDatabase(options);
  const db = await openDatabase(scratch.config);
  await migrate(db, { lockTimeoutMs: 30_000 });
  return {
    db,
    config: scratch.config,
    dispose: async () => {
      await db.close();
      await scratch.dispose();
    },
  };
}

/** Env vars that point a CLI child process at a fresh database. */
export async function createCliDatabase(): Promise<{ env: Record<string, string>; kind: 'pglite' | 'postgres'; dispose(): Promise<void> }> {
  const scratch = await createScratchDatabase({ onDisk: true });
  const env: Record<string, string> = scratch.config.url
    ? { BIGBROTR_DATABASE_URL: scratch.config.url }
    : { BIGBROTR_DATABASE__DATA_DIR: scratch.config.data_dir };
  return { env, kind: testDatabaseKind, dispose: scratch.dispose };
}
