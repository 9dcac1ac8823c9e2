/**
 * bigbrotr through a real PgBouncer in transaction pooling mode (PostgreSQL only): migrations (twice,
 * and from two processes at once) with the transaction-scoped migration lock, a synchronizer pass
 * from the CLI, API reads (`SET LOCAL` read-only transactions), and the `statement_timeout` start-up
 * parameter, which PgBouncer refuses unless `ignore_startup_parameters` lists it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiTimeoutError, readOnly } from '../../src/api/api-query.js';
import type { DatabaseConfig } from '../../src/config/schema.js';
import type { Database } from '../../src/db/database.js';
import { DatabaseError } from '../../src/db/errors.js';
import { eventQuery, findEvents } from '../../src/db/event-query.js';
import { getEventsByIds } from '../../src/db/events.js';
import { migrate, readMigrations } from '../../src/db/migrate.js';
import { openDatabase } from '../../src/db/open.js';
import type { NostrEvent } from '../../src/nostr/event.js';
import { packageRoot } from '../../src/package-root.js';
import { runCli } from '../support/cli.js';
import { createScratchDatabase, serverUrl } from '../support/database.js';
import { generateEvents } from '../support/events.js';
import { findPgbouncer, startPgbouncer, type Pgbouncer } from '../support/pgbouncer.js';
import { startTestRelay, type TestRelay } from '../support/relay/server.js';

const installed = findPgbouncer() !== undefined;
// In CI a missing pgbouncer is a failure, not a skip (.ci/run installs it).
const enabled = serverUrl !== undefined && (installed || Boolean(process.env.CI));
if (serverUrl !== undefined && !installed) {
  console.warn('test/db/pgbouncer.test.ts: SKIPPED, pgbouncer is not installed (apt-get install pgbouncer; CI installs it)');
}

const base = 1_700_000_000;
const DATABASE_TIMEOUT = '61s';

let bouncer: Pgbouncer;
let strict: Pgbouncer;
let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
let config: DatabaseConfig;
let relay: TestRelay;
let events: NostrEvent[];
const open: Database[] = [];

async function admin<T>(fn: (client: pg.Client) => Promise<T>, url = serverUrl as string): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function connect(overrides: Partial<DatabaseConfig> = {}): Promise<Database> {
  const db = await openDatabase({ ...config, ...overrides });
  open.push(db);
  return db;
}

describe.runIf(enabled)('through PgBouncer in transaction pooling mode', () => {
  beforeAll(async () => {
    // Two server connections per database and user: clients share them, as in production.
    bouncer = await startPgbouncer({ upstream: serverUrl as string, ignoreStartupParameters: ['statement_timeout'], poolSize: 2 });
    strict = await startPgbouncer({ upstream: serverUrl as string, poolSize: 2 });
    scratch = await createScratchDatabase();
    const name = new URL(scratch.config.url as string).pathname.slice(1);
    // The statement timeout behind PgBouncer: a database (or role) default, applied to each server connection.
    await admin((client) => client.query(`ALTER DATABASE ${name} SET statement_timeout = '${DATABASE_TIMEOUT}'`));
    config = { ...scratch.config, url: bouncer.via(scratch.config.url as string), pool_size: 3 };
    events = generateEvents({ count: 600, authors: 7, kinds: [1, 7, 30023], createdAt: [base, base + 3_000], seed: 'pgbouncer' });
    relay = await startTestRelay({ maxLimit: 100, defaultLimit: 100, keepAllVersions: true, negentropy: false });
    relay.addEvents(events);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(open.map((db) => db.close()));
    await relay?.close();
    await bouncer?.stop();
    await strict?.stop();
    await scratch?.dispose();
  });

  it('migrates twice and from two processes at once, leaving no advisory lock behind', async () => {
    const [first, second] = await Promise.all([connect(), connect()]);
    const results = await Promise.all([
      migrate(first as Database, { lockTimeoutMs: 30_000 }),
      migrate(second as Database, { lockTimeoutMs: 30_000 }),
    ]);
    expect(results.filter((result) => result.applied.length > 0).map((result) => result.applied)).toEqual([
      readMigrations().map((file) => file.name),
    ]);
    expect((await migrate(first as Database, { lockTimeoutMs: 5_000 })).applied).toEqual([]);
    // Two CLI processes at once, then a third: all succeed, nothing left to apply.
    const env = { BIGBROTR_DATABASE_URL: config.url as string };
    const together = await Promise.all([runCli(['migrate', '--json'], env), runCli(['migrate', '--json'], env)]);
    for (const result of together) {
      expect(result.code, result.stderr).toBe(0);
      expect((JSON.parse(result.stdout) as { applied: string[] }).applied).toEqual([]);
    }
    const again = await runCli(['migrate'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('schema is up to date');
    const locks = await admin((client) =>
      client.query<{ count: string }>(
        `SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND d.datname = $1`,
        [new URL(config.url as string).pathname.slice(1)],
      ),
    );
    expect(Number(locks.rows[0]?.count)).toBe(0);
  }, 240_000);

  it('statement_timeout: a start-up parameter PgBouncer refuses unless ignored (clear error); the database default applies', async () => {
    const refused = await connect({ url: strict.via(scratch.config.url as string) }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DatabaseError);
    expect((refused as Error).message).toContain('statement_timeout');
    expect((refused as Error).message).toContain('ignore_startup_parameters');
    // Without the start-up parameter the strict PgBouncer accepts the connection.
    const plain = await connect({ url: strict.via(scratch.config.url as string), statement_timeout_ms: 0 });
    expect((await plain.query<{ statement_timeout: string }>('SHOW statement_timeout')).rows[0]?.statement_timeout).toBe(DATABASE_TIMEOUT);
    const db = await connect();
    expect((await db.query<{ statement_timeout: string }>('SHOW statement_timeout')).rows[0]?.statement_timeout).toBe(DATABASE_TIMEOUT);
  });

  it('a synchronizer pass from the CLI archives every event', async () => {
    const result = await runCli(
      ['sync', '--once', '--relay', relay.url, '--since', String(base), '--until', String(base + 5_000), '--json'],
      { BIGBROTR_DATABASE_URL: config.url as string },
      120_000,
    );
    expect(result.code, result.stderr).toBe(0);
    const parsed = JSON.parse(result.stdout) as { results: { stored: number; report: { complete: boolean } }[]; failures: unknown[] };
    expect(parsed.failures).toEqual([]);
    expect(parsed.results[0]?.report.complete).toBe(true);
    expect(parsed.results[0]?.stored).toBe(events.length);
    // Checked on a direct connection, not through PgBouncer.
    const direct = await openDatabase({ ...scratch.config });
    open.push(direct);
    const stored = await getEventsByIds(
      direct,
      events.map((event) => event.id),
    );
    expect(stored.length).toBe(events.length);
    const byId = new Map(stored.map((event) => [event.id, event]));
    for (const event of events) expect(byId.get(event.id)).toEqual(event);
  }, 180_000);

  it('API reads run as SET LOCAL read-only transactions; their settings never leak to the shared server connections', async () => {
    const db = await connect();
    const author = events[0]?.pubkey as string;
    const found = await readOnly(db, 5_000, (tx) => findEvents(tx, eventQuery({ authors: [author] }, 1_000)));
    expect(found.map((event) => event.id).sort()).toEqual(
      events
        .filter((event) => event.pubkey === author)
        .map((event) => event.id)
        .sort(),
    );
    const write = await readOnly(db, 5_000, (tx) => tx.query(`DELETE FROM event`)).catch((error: unknown) => error);
    expect((write as DatabaseError).code).toBe('25006'); // read_only_sql_transaction
    await expect(readOnly(db, 50, (tx) => tx.query('SELECT pg_sleep(2)'))).rejects.toBeInstanceOf(ApiTimeoutError);
    // Every server connection still has the database default and is writable.
    const settings = await Promise.all(
      Array.from({ length: 6 }, () =>
        db.query<{ timeout: string; read_only: string }>(
          `SELECT current_setting('statement_timeout') AS timeout, current_setting('transaction_read_only') AS read_only`,
        ),
      ),
    );
    for (const { rows } of settings) expect(rows[0]).toEqual({ timeout: DATABASE_TIMEOUT, read_only: 'off' });
  });
});

describe('prepared statements', () => {
  // node-postgres prepares a named statement only for a query config with `name`; PgBouncer 1.18 in
  // transaction mode cannot follow named statements across server connections. Unnamed ones are fine.
  it('no query in src/ is named (query configs are never used)', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir)) {
        const path = join(dir, entry);
        if (statSync(path).isDirectory()) walk(path);
        else if (
          path.endsWith('.ts') &&
          /\.query\s*(<[^>]*>)?\s*\(\s*\{|\bprepare\s*\(|\bnew\s+pg\.Query\b/.test(readFileSync(path, 'utf8'))
        )
          offenders.push(path);
      }
    };
    walk(join(packageRoot(), 'src'));
    expect(offenders).toEqual([]);
  });
});
