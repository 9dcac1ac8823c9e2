/**
 * A database for a CLI child process: a fresh PostgreSQL database when BIGBROTR_DATABASE_URL is set
 * (created on that server, dropped afterwards), else a fresh PGlite data directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface CliDatabase {
  /** Env vars that point the CLI at this database. */
  env: Record<string, string>;
  kind: 'pglite' | 'postgres';
  dispose(): Promise<void>;
}

let counter = 0;

export async function createCliDatabase(): Promise<CliDatabase> {
  const serverUrl = process.env.BIGBROTR_DATABASE_URL;
  if (!serverUrl) {
    const dir = mkdtempSync(join(tmpdir(), 'bigbrotr-cli-db-'));
    return {
      env: { BIGBROTR_DATABASE__DATA_DIR: join(dir, 'data') },
      kind: 'pglite',
      dispose: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  counter += 1;
  const name = `bigbrotr_cli_${process.pid}_${Date.now().toString(36)}_${counter}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    env: { BIGBROTR_DATABASE_URL: url.toString() },
    kind: 'postgres',
    dispose: async () => {
      const cleanup = new pg.Client({ connectionString: serverUrl });
      await cleanup.connect();
      try {
        await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await cleanup.end();
      }
    },
  };
}
