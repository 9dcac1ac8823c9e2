/**
 * `bigbrotr backup` and `bigbrotr restore` on both databases: an archive with events (awkward ones
 * included) and monitor checks is backed up, restored into an EMPTY database (a new PostgreSQL
 * database / a new PGlite data directory), and every event (id and exact content) and every check is
 * found there. A non-empty target is refused unless --force.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseConfig } from '../../src/config/schema.js';
import { BackupError, detectBackupFormat, libpqConnection } from '../../src/db/backup.js';
import type { Database } from '../../src/db/database.js';
import { getEventsByIds, insertEventBatch } from '../../src/db/events.js';
import { migrate, readMigrations } from '../../src/db/migrate.js';
import { openDatabase } from '../../src/db/open.js';
import { storeRelayChecks, type CheckRecord } from '../../src/db/relay-checks.js';
import { getOrCreateRelayIds } from '../../src/db/relays.js';
import { databaseSchema } from '../../src/config/schema.js';
import type { NostrEvent } from '../../src/nostr/event.js';
import { signEvent } from '../../src/nostr/sign.js';
import { runCli } from '../support/cli.js';
import { createScratchDatabase, testDatabaseKind } from '../support/database.js';
import { generateEvents, testSecretKey } from '../support/events.js';

type Scratch = Awaited<ReturnType<typeof createScratchDatabase>>;

const scratches: Scratch[] = [];
let workDir: string;
let source: Scratch;
let events: NostrEvent[];
let checksBefore: unknown[];
const RELAY = 'wss://backup.example/';

function envFor(config: DatabaseConfig): Record<string, string> {
  return config.url ? { BIGBROTR_DATABASE_URL: config.url } : { BIGBROTR_DATABASE__DATA_DIR: config.data_dir };
}

async function scratch(): Promise<Scratch> {
  const created = await createScratchDatabase({ onDisk: true });
  scratches.push(created);
  return created;
}

async function withDb<T>(config: DatabaseConfig, fn: (db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase(config);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

const CHECKS_SQL = `SELECT r.url, c.check_type, c.checked_at, c.ok, c.rtt_ms, c.reason, c.detail, m.type AS document_type, m.data AS document
  FROM relay_check c JOIN relay r ON r.id = c.relay_id LEFT JOIN metadata m ON m.id = c.metadata_id
  ORDER BY r.url, c.check_type, c.checked_at`;

async function checks(db: Database): Promise<unknown[]> {
  return (await db.query(CHECKS_SQL)).rows;
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'bigbrotr-backup-test-'));
  source = await scratch();
  const now = Math.floor(Date.now() / 1000);
  events = [
    ...generateEvents({
      count: 250,
      authors: 6,
      kinds: [0, 1, 7, 30023],
      createdAt: [now - 40 * 86_400, now - 60],
      tags: [
        ['t', 'backup'],
        ['p', 'b'.repeat(64)],
      ],
      seed: 'backup',
    }),
    // Content PostgreSQL text cannot hold as is (kept losslessly in raw_json) and a multi-byte one.
    signEvent(
      { kind: 1, created_at: now - 3_600, tags: [['t', 'nul\u0000tag']], content: 'nul \u0000 and lone \ud800 surrogate' },
      testSecretKey('backup-odd', 0),
    ),
    signEvent({ kind: 1, created_at: 1_600_000_000, tags: [], content: 'émoji 🦩 and ümlauts, 2020' }, testSecretKey('backup-odd', 1)),
  ];
  await withDb(source.config, async (db) => {
    await migrate(db, { lockTimeoutMs: 30_000 });
    const ids = await getOrCreateRelayIds(
      db,
      [
        { url: RELAY, network: 'clearnet' },
        { url: 'wss://other.example/', network: 'clearnet' },
      ],
      'seed',
    );
    await insertEventBatch(db, events, ids.get(RELAY) as number);
    await insertEventBatch(db, events.slice(0, 20), ids.get('wss://other.example/') as number);
    const at = (hoursAgo: number) => new Date(Date.now() - hoursAgo * 3_600_000);
    for (const hoursAgo of [50, 26, 3]) {
      const records: CheckRecord[] = [
        { type: 'open', checkedAt: at(hoursAgo), ok: true, rttMs: 30 + hoursAgo },
        {
          type: 'nip11',
          checkedAt: at(hoursAgo),
          ok: true,
          rttMs: 12,
          document: { name: 'Backup relay', supported_nips: [1, 11, 77], limitation: { max_limit: 500 } },
        },
        { type: 'write', checkedAt: at(hoursAgo), ok: false, reason: 'restricted: paid relay', detail: { prefix: 'restricted' } },
      ];
      await storeRelayChecks(db, ids.get(RELAY) as number, records);
    }
    checksBefore = await checks(db);
    expect(checksBefore.length).toBe(9);
  });
}, 120_000);

afterAll(async () => {
  for (const created of scratches.reverse()) await created.dispose();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe(`bigbrotr backup / restore (${testDatabaseKind})`, () => {
  it('restores into an empty database with every event (id and exact content) and every check', async () => {
    const file = join(workDir, 'archive.backup');
    const backup = await runCli(['backup', '--output', file, '--json'], envFor(source.config), 120_000);
    expect(backup.code, backup.stderr).toBe(0);
    expect(JSON.parse(backup.stdout)).toMatchObject({
      database: testDatabaseKind,
      format: testDatabaseKind === 'postgres' ? 'pg_dump' : 'pglite',
      bytes: statSync(file).size,
    });
    expect(detectBackupFormat(file)).toBe(testDatabaseKind === 'postgres' ? 'pg_dump' : 'pglite');
    expect(readdirPartial(workDir)).toEqual([]);

    const target = await scratch();
    const restore = await runCli(['restore', '--input', file, '--json'], envFor(target.config), 120_000);
    expect(restore.code, restore.stderr).toBe(0);
    const migrations = readMigrations().map((migration) => migration.name);
    expect(JSON.parse(restore.stdout)).toMatchObject({
      database: testDatabaseKind,
      replaced: false,
      schema: migrations[migrations.length - 1],
    });

    await withDb(target.config, async (db) => {
      // The restored schema is current: nothing to migrate.
      expect((await migrate(db, { lockTimeoutMs: 10_000 })).applied).toEqual([]);
      const restored = await getEventsByIds(
        db,
        events.map((event) => event.id),
      );
      expect(restored.length).toBe(events.length);
      const byId = new Map(restored.map((event) => [event.id, event]));
      for (const event of events) expect(byId.get(event.id)).toEqual(event);
      const { rows } = await db.query<{ n: number }>('SELECT count(*) AS n FROM event_relay');
      expect(rows[0]?.n).toBe(events.length + 20);
      expect(await checks(db)).toEqual(checksBefore);
      // Sequences continue after the restored rows.
      const ids = await getOrCreateRelayIds(db, [{ url: 'wss://after-restore.example/', network: 'clearnet' }], 'test');
      const max = await db.query<{ id: number }>(`SELECT max(id) AS id FROM relay WHERE url <> 'wss://after-restore.example/'`);
      expect(ids.get('wss://after-restore.example/')).toBeGreaterThan(max.rows[0]?.id as number);
    });

    // The target is no longer empty: refused without --force, replaced with it.
    const again = await runCli(['restore', '--input', file], envFor(target.config), 120_000);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('not empty');
    expect(again.stderr).toContain('--force');
    const forced = await runCli(['restore', '--input', file, '--force', '--json'], envFor(target.config), 120_000);
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ replaced: true });
    await withDb(target.config, async (db) => {
      expect((await db.query<{ n: number }>(`SELECT count(*) AS n FROM relay WHERE url = 'wss://after-restore.example/'`)).rows[0]?.n).toBe(
        0,
      );
      expect(
        (
          await getEventsByIds(
            db,
            events.map((event) => event.id),
          )
        ).length,
      ).toBe(events.length);
      expect(await checks(db)).toEqual(checksBefore);
    });
  }, 300_000);

  it('refuses a file that is not a backup, and a backup of the other kind of database', async () => {
    const target = await scratch();
    const junk = join(workDir, 'junk.bin');
    writeFileSync(junk, 'not a backup at all');
    const refused = await runCli(['restore', '--input', junk], envFor(target.config));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('neither a pg_dump custom-format archive nor');
    const fake = join(workDir, testDatabaseKind === 'postgres' ? 'fake.tar.gz' : 'fake.dump');
    writeFileSync(fake, testDatabaseKind === 'postgres' ? Buffer.from([0x1f, 0x8b, 0x08, 0x00]) : 'PGDMP fake');
    const wrongKind = await runCli(['restore', '--input', fake], envFor(target.config));
    expect(wrongKind.code).toBe(1);
    expect(wrongKind.stderr).toContain(
      testDatabaseKind === 'postgres' ? 'backup of the embedded database' : 'pg_dump archive of a PostgreSQL database',
    );
  }, 120_000);
});

describe('pg_dump connection settings', () => {
  it('pass the password only in a private pgpass file, never in the environment or arguments', () => {
    const password = 'p:w\\with-colon-and-backslash';
    const config = {
      ...databaseSchema.parse({}),
      url: `postgres://archiver:${encodeURIComponent(password)}@db.example:6543/archive?sslmode=verify-full`,
      ssl_ca_file: '/etc/ca.pem',
    };
    const connection = libpqConnection(config, { PATH: '/usr/bin', PGPASSWORD: 'inherited', PGSERVICE: 'x' });
    try {
      expect(connection.env).toMatchObject({
        PGHOST: 'db.example',
        PGPORT: '6543',
        PGUSER: 'archiver',
        PGDATABASE: 'archive',
        PGSSLMODE: 'verify-full',
        PGSSLROOTCERT: '/etc/ca.pem',
        PATH: '/usr/bin',
      });
      expect(connection.env.PGPASSWORD).toBeUndefined();
      expect(connection.env.PGSERVICE).toBeUndefined();
      expect(JSON.stringify(Object.entries(connection.env).filter(([name]) => name !== 'PGPASSFILE'))).not.toContain('with-colon');
      const passfile = connection.env.PGPASSFILE as string;
      expect(statSync(passfile).mode & 0o777).toBe(0o600);
      expect(readFile(passfile)).toBe('*:*:*:*:p\\:w\\\\with-colon-and-backslash\n');
    } finally {
      connection.cleanup();
    }
    expect(existsSync(connection.env.PGPASSFILE as string)).toBe(false);
  });

  it.runIf(testDatabaseKind === 'postgres')('a missing pg_dump is a clear error', async () => {
    const result = await runCli(
      ['backup', '--output', join(workDir, 'never.backup'), '--pg-bin-dir', '/nonexistent'],
      envFor(source.config),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('pg_dump not found in /nonexistent');
    expect(existsSync(join(workDir, 'never.backup'))).toBe(false);
    expect(new BackupError('x').name).toBe('BackupError');
  });
});

function readdirPartial(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.endsWith('.partial'));
}

function readFile(path: string): string {
  return readFileSync(path, 'utf8');
}
