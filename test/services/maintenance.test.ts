/**
 * The maintenance service on a real database: partitions created ahead of time (rows already in a
 * default partition move in), retention by whole partitions with the provenance of dropped events,
 * nothing touched with retention 0, a dry run that changes nothing and reports the run's plan,
 * orphan metadata, the lease, relay_check history surviving migration 0008, and the CLI command.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { configSchema, databaseSchema, type Config } from '../../src/config/schema.js';
import type { Database } from '../../src/db/database.js';
import { insertEventBatch } from '../../src/db/events.js';
import { acquireLeases } from '../../src/db/leases.js';
import { migrate, migrationsDir } from '../../src/db/migrate.js';
import { openDatabase } from '../../src/db/open.js';
import { storeRelayChecks } from '../../src/db/relay-checks.js';
import { MAINTENANCE_SERVICE, runMaintenance, type MaintenanceReport } from '../../src/services/maintenance/maintenance.js';
import { runCli } from '../support/cli.js';
import { createCliDatabase, createScratchDatabase, createTestDatabase, serverUrl, testDatabaseKind } from '../support/database.js';
import { generateEvents } from '../support/events.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const DAY = 86_400;

function configWith(maintenance: Partial<Config['maintenance']>): Config {
  return configSchema.parse({ maintenance });
}

async function freshDatabase(): Promise<Database> {
  const test = await createTestDatabase();
  cleanups.push(test.dispose);
  return test.db;
}

async function partitionsOf(db: Database, table: string): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass ORDER BY 1`,
    [table],
  );
  return rows.map((row) => row.name);
}

async function addRelay(db: Database, url = 'wss://relay.example.com/'): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO relay (url, network, state, discovered_from) VALUES ($1, 'clearnet', 'active', 'seed') RETURNING id`,
    [url],
  );
  return rows[0]?.id as number;
}

async function count(db: Database, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await db.query<{ n: number }>(sql, params);
  return Number(rows[0]?.n);
}

function names(report: MaintenanceReport | undefined): { created: string[]; dropped: string[]; orphanMetadata: number } {
  if (!report) throw new Error('no report: lease held elsewhere');
  return {
    created: report.created.map((action) => action.name).sort(),
    dropped: report.dropped.map((action) => action.name).sort(),
    orphanMetadata: report.orphanMetadata,
  };
}

describe('maintenance: partitions ahead of time', () => {
  it('creates the coming months and years once, moving rows that reached the default partition', async () => {
    const db = await freshDatabase();
    // A fresh database needs nothing today: the migrations created this year, next year and the coming months.
    expect(names(await runMaintenance({ db, config: configWith({}) })).created).toEqual([]);

    const relayId = await addRelay(db);
    const now = new Date('2031-06-15T12:00:00Z');
    // Data that arrived before its partition existed sits in the default partitions.
    const [early] = generateEvents({ count: 1, createdAt: Date.UTC(2031, 1, 3) / 1000, seed: 'early' });
    await insertEventBatch(db, [early as NonNullable<typeof early>], relayId);
    await storeRelayChecks(db, relayId, [{ type: 'open', checkedAt: new Date('2031-07-02T00:00:00Z'), ok: true, rttMs: 5 }]);
    expect(await count(db, `SELECT count(*) AS n FROM event_default`)).toBe(1);
    expect(await count(db, `SELECT count(*) AS n FROM relay_check_default`)).toBe(1);

    const config = configWith({ partitions_ahead_months: 2, check_retention_days: 0 });
    const first = await runMaintenance({ db, config, now });
    expect(names(first).created).toEqual([
      'event_y2031',
      'event_y2032',
      'relay_check_y2031m06',
      'relay_check_y2031m07',
      'relay_check_y2031m08',
    ]);
    expect(first?.created.find((action) => action.name === 'relay_check_y2031m07')).toMatchObject({
      table: 'relay_check',
      from: '2031-07-01T00:00:00.000Z',
      to: '2031-08-01T00:00:00.000Z',
    });
    expect(first?.analyzed).toEqual(expect.arrayContaining(['event_y2031', 'relay_check_y2031m08']));
    expect(await partitionsOf(db, 'relay_check')).toEqual(
      expect.arrayContaining(['relay_check_default', 'relay_check_y2031m06', 'relay_check_y2031m07', 'relay_check_y2031m08']),
    );

    // The stray rows moved into their partitions, unchanged and still reachable through the parents.
    expect(await count(db, `SELECT count(*) AS n FROM event_default`)).toBe(0);
    expect(await count(db, `SELECT count(*) AS n FROM event_y2031 WHERE id = decode($1, 'hex')`, [early?.id])).toBe(1);
    expect(await count(db, `SELECT count(*) AS n FROM relay_check_y2031m07`)).toBe(1);
    expect(await count(db, `SELECT count(*) AS n FROM relay_check WHERE relay_id = $1`, [relayId])).toBe(1);
    // New partitions copy the autovacuum settings of the default partition.
    const { rows } = await db.query<{ reloptions: string[] }>(
      `SELECT reloptions FROM pg_class WHERE oid = 'relay_check_y2031m08'::regclass`,
    );
    expect(rows[0]?.reloptions).toEqual(expect.arrayContaining(['autovacuum_analyze_scale_factor=0.02']));

    // New rows go to the new partitions; a second run creates nothing.
    await storeRelayChecks(db, relayId, [{ type: 'open', checkedAt: new Date('2031-08-20T00:00:00Z'), ok: true, rttMs: 5 }]);
    expect(await count(db, `SELECT count(*) AS n FROM relay_check_y2031m08`)).toBe(1);
    expect(names(await runMaintenance({ db, config, now })).created).toEqual([]);
  });
});

describe('maintenance: retention and dry run', () => {
  it('drops whole expired partitions (and the provenance of dropped events), only when retention is set, and the dry run predicts it', async () => {
    const db = await freshDatabase();
    const relayA = await addRelay(db, 'wss://a.example.com/');
    const relayB = await addRelay(db, 'wss://b.example.com/');
    const now = new Date();
    const thisYear = now.getUTCFullYear();
    const old = generateEvents({ count: 30, createdAt: [Date.UTC(2020, 2, 1) / 1000, Date.UTC(2020, 10, 1) / 1000], seed: 'old' });
    const recent = generateEvents({
      count: 20,
      createdAt: [Math.floor(now.getTime() / 1000) - 10 * DAY, Math.floor(now.getTime() / 1000) - DAY],
      seed: 'recent',
    });
    const absurd = generateEvents({ count: 2, createdAt: 42, seed: 'absurd' }); // 1970: the default partition
    for (const relayId of [relayA, relayB]) await insertEventBatch(db, [...old, ...recent, ...absurd], relayId);
    expect(await count(db, 'SELECT count(*) AS n FROM event_relay')).toBe(2 * 52);

    // A check two years ago (its month's partition created afterwards: the row moves in) and one now.
    const twoYearsAgo = new Date(now.getTime() - 730 * DAY * 1000);
    await storeRelayChecks(db, relayA, [
      { type: 'nip11', checkedAt: twoYearsAgo, ok: true, document: { name: 'old relay' } },
      { type: 'open', checkedAt: now, ok: true, rttMs: 7 },
    ]);
    const { rows: made } = await db.query<{ created: boolean }>(
      'SELECT bigbrotr_create_relay_check_partition($1::timestamptz) AS created',
      [twoYearsAgo.toISOString()],
    );
    expect(made[0]?.created).toBe(true);
    const oldMonth = `relay_check_y${twoYearsAgo.getUTCFullYear()}m${String(twoYearsAgo.getUTCMonth() + 1).padStart(2, '0')}`;
    expect(await count(db, `SELECT count(*) AS n FROM ${oldMonth}`)).toBe(1);
    // The document only that old check saw: first seen long ago.
    await db.query(`UPDATE metadata SET first_seen_at = $1`, [twoYearsAgo.toISOString()]);

    const snapshot = async () => ({
      event: await partitionsOf(db, 'event'),
      relayCheck: await partitionsOf(db, 'relay_check'),
      events: await count(db, 'SELECT count(*) AS n FROM event'),
      links: await count(db, 'SELECT count(*) AS n FROM event_relay'),
      checks: await count(db, 'SELECT count(*) AS n FROM relay_check'),
      metadata: await count(db, 'SELECT count(*) AS n FROM metadata'),
    });
    const before = await snapshot();

    // Retention 0 (the event default) never touches anything.
    const keepAll = await runMaintenance({ db, config: configWith({ event_retention_days: 0, check_retention_days: 0 }), now });
    expect(names(keepAll)).toEqual({ created: [], dropped: [], orphanMetadata: 0 });
    expect(await snapshot()).toEqual(before);

    const config = configWith({ event_retention_days: 3 * 365, check_retention_days: 400 });
    const cutoff = now.getTime() - 3 * 365 * DAY * 1000;
    const expiredYears = Array.from({ length: 11 }, (_, index) => 2020 + index).filter((year) => Date.UTC(year + 1, 0, 1) <= cutoff);
    expect(expiredYears).toContain(2020);
    expect(expiredYears).not.toContain(thisYear);
    const expected = { created: [], dropped: [...expiredYears.map((year) => `event_y${year}`), oldMonth].sort(), orphanMetadata: 1 };

    const dry = await runMaintenance({ db, config, now, dryRun: true });
    expect(names(dry)).toEqual(expected);
    expect(dry?.dryRun).toBe(true);
    expect(dry?.eventRelayRemoved).toBeNull();
    expect(dry?.dropped.find((action) => action.name === 'event_y2020')).toMatchObject({
      table: 'event',
      from: '2020-01-01T00:00:00.000Z',
      to: '2021-01-01T00:00:00.000Z',
    });
    expect(await snapshot()).toEqual(before);

    const real = await runMaintenance({ db, config, now });
    expect(names(real)).toEqual(expected);
    expect(real?.eventRelayRemoved).toBe(2 * old.length);
    expect(real?.analyzed).toEqual(expect.arrayContaining(['event', 'relay_check', 'event_relay', 'metadata']));

    const after = await snapshot();
    expect(after.event).not.toContain('event_y2020');
    expect(after.event).toContain(`event_y${thisYear}`);
    expect(after.event).toContain('event_default');
    expect(after.relayCheck).not.toContain(oldMonth);
    expect(after.events).toBe(recent.length + absurd.length);
    // Provenance of the dropped events went with them; the rest is intact (events with absurd timestamps stay in the default partition).
    expect(after.links).toBe(2 * (recent.length + absurd.length));
    expect(
      await count(db, 'SELECT count(*) AS n FROM event_relay er WHERE NOT EXISTS (SELECT 1 FROM event e WHERE e.id = er.event_id)'),
    ).toBe(0);
    expect(after.checks).toBe(1);
    expect(after.metadata).toBe(0);
    // Nothing detached is left behind; a second run has nothing to do.
    expect(await count(db, `SELECT count(*) AS n FROM pg_class WHERE relname LIKE 'bigbrotr_expired_%'`)).toBe(0);
    expect(names(await runMaintenance({ db, config, now }))).toEqual({ created: [], dropped: [], orphanMetadata: 0 });
  });

  it('finishes a retention left half done by an interrupted run', async () => {
    const db = await freshDatabase();
    const relayId = await addRelay(db);
    const old = generateEvents({ count: 12, createdAt: [Date.UTC(2021, 0, 5) / 1000, Date.UTC(2021, 5, 5) / 1000], seed: 'detached' });
    await insertEventBatch(db, old, relayId);
    // What a run stopped right after the detach leaves.
    await db.exec(`ALTER TABLE event DETACH PARTITION event_y2021; ALTER TABLE event_y2021 RENAME TO bigbrotr_expired_event_y2021;`);
    const report = await runMaintenance({ db, config: configWith({ batch_size: 5 }) });
    expect(names(report).dropped).toEqual(['event_y2021']);
    expect(report?.eventRelayRemoved).toBe(12);
    expect(await count(db, 'SELECT count(*) AS n FROM event_relay')).toBe(0);
    expect(await count(db, `SELECT count(*) AS n FROM pg_class WHERE relname = 'bigbrotr_expired_event_y2021'`)).toBe(0);
  });
});

describe('maintenance: orphan metadata and the lease', () => {
  it('removes documents only when no check points to them and they were first seen before the grace period', async () => {
    const db = await freshDatabase();
    const relayId = await addRelay(db);
    await storeRelayChecks(db, relayId, [
      { type: 'nip11', checkedAt: new Date(), ok: true, document: { name: 'referenced' } },
      { type: 'geo', checkedAt: new Date(), ok: true, document: { country: 'ZZ' } },
    ]);
    await db.query(
      `INSERT INTO metadata (id, type, data, first_seen_at) VALUES
         (decode(repeat('aa', 32), 'hex'), 'nip11', '{"name":"old orphan"}', now() - interval '3 days'),
         (decode(repeat('bb', 32), 'hex'), 'nip11', '{"name":"new orphan"}', now() - interval '1 hour')`,
    );
    await db.query(`UPDATE metadata SET first_seen_at = now() - interval '3 days' WHERE data->>'name' = 'referenced'`);

    const config = configWith({});
    expect(names(await runMaintenance({ db, config, dryRun: true })).orphanMetadata).toBe(1);
    const report = await runMaintenance({ db, config });
    expect(report?.orphanMetadata).toBe(1);
    const { rows } = await db.query<{ name: string | null; type: string }>(
      `SELECT data->>'name' AS name, type FROM metadata ORDER BY type, name`,
    );
    expect(rows).toEqual([
      { name: null, type: 'geo' },
      { name: 'new orphan', type: 'nip11' },
      { name: 'referenced', type: 'nip11' },
    ]);
    // A shorter grace period takes the newer orphan too.
    expect((await runMaintenance({ db, config: configWith({ orphan_grace_seconds: 60 }) }))?.orphanMetadata).toBe(1);
  });

  it('runs in one process at a time', async () => {
    const db = await freshDatabase();
    await acquireLeases(db, { service: MAINTENANCE_SERVICE, owner: 'other-host:1:abc', candidates: ['run'], limit: 1, ttlMs: 60_000 });
    expect(await runMaintenance({ db, config: configWith({}), owner: 'this-host:2:def' })).toBeUndefined();
    // A dry run takes no lease and changes nothing, so it runs anyway.
    expect(await runMaintenance({ db, config: configWith({}), dryRun: true })).toBeDefined();
    await db.query(`UPDATE service_lease SET expires_at = now() - interval '1 second' WHERE service = $1`, [MAINTENANCE_SERVICE]);
    expect(await runMaintenance({ db, config: configWith({}), owner: 'this-host:2:def' })).toBeDefined();
    const { rows } = await db.query<{ owner: string }>('SELECT owner FROM service_lease WHERE service = $1', [MAINTENANCE_SERVICE]);
    expect(rows).toEqual([{ owner: '' }]); // released after the run
  });
});

describe('migration 0008', () => {
  it('keeps the relay_check history, its constraint, ids and views', async () => {
    const scratch = await createScratchDatabase();
    cleanups.push(scratch.dispose);
    const db = await openDatabase(scratch.config);
    cleanups.push(() => db.close());
    const upTo0006 = mkdtempSync(join(tmpdir(), 'bigbrotr-migrations-'));
    cleanups.push(async () => rmSync(upTo0006, { recursive: true, force: true }));
    for (const file of readdirSync(migrationsDir())) {
      if (/^\d{4}_/.test(file) && file <= '0006_~') cpSync(join(migrationsDir(), file), join(upTo0006, file));
    }
    expect((await migrate(db, { lockTimeoutMs: 30_000, dir: upTo0006 })).current).toBe('0006_monitor.sql');

    const relayId = await addRelay(db);
    const now = Date.now();
    const at = (daysAgo: number) => new Date(now - daysAgo * DAY * 1000);
    await storeRelayChecks(db, relayId, [
      { type: 'nip11', checkedAt: at(95), ok: true, rttMs: 40, document: { name: 'then' } },
      { type: 'open', checkedAt: at(95), ok: false, reason: 'timeout' },
      { type: 'open', checkedAt: at(2), ok: true, rttMs: 30 },
      { type: 'nip11', checkedAt: at(1), ok: true, rttMs: 20, document: { name: 'now' }, detail: { note: 'x' } },
      { type: 'open', checkedAt: at(1), ok: true, rttMs: 10 },
    ]);
    const columns = 'id, relay_id, check_type, checked_at, ok, rtt_ms, reason, metadata_id, detail';
    const { rows: before } = await db.query(`SELECT ${columns} FROM relay_check ORDER BY id`);
    const { rows: latestBefore } = await db.query('SELECT * FROM relay_metadata_latest ORDER BY check_type');
    const { rows: uptimeBefore } = await db.query('SELECT * FROM relay_uptime');

    const result = await migrate(db, { lockTimeoutMs: 30_000 });
    expect(result.applied).toContain('0008_lifecycle.sql');
    const { rows: after } = await db.query(`SELECT ${columns} FROM relay_check ORDER BY id`);
    expect(after).toEqual(before);
    expect((await db.query('SELECT * FROM relay_metadata_latest ORDER BY check_type')).rows).toEqual(latestBefore);
    expect((await db.query('SELECT * FROM relay_uptime')).rows).toEqual(uptimeBefore);

    // Partitioned by month, each old row in its month's partition, the default partition empty.
    const { rows: kind } = await db.query<{ relkind: string }>(`SELECT relkind FROM pg_class WHERE oid = 'relay_check'::regclass`);
    expect(kind[0]?.relkind).toBe('p');
    expect(await count(db, 'SELECT count(*) AS n FROM relay_check_default')).toBe(0);
    expect(await count(db, `SELECT count(DISTINCT tableoid) AS n FROM relay_check`)).toBeGreaterThanOrEqual(2);
    // The constraint, the primary key with the partition key, new ids after the old ones.
    await expect(db.query(`INSERT INTO relay_check (relay_id, check_type, ok) VALUES ($1, 'bogus', true)`, [relayId])).rejects.toThrow(
      /relay_check_type_check/,
    );
    const { rows: key } = await db.query<{ def: string }>(
      `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'relay_check'::regclass AND contype = 'p'`,
    );
    expect(key[0]?.def).toBe('PRIMARY KEY (id, checked_at)');
    const { rows: fresh } = await db.query<{ id: number }>(
      `INSERT INTO relay_check (relay_id, check_type, ok) VALUES ($1, 'read', true) RETURNING id`,
      [relayId],
    );
    expect(fresh[0]?.id).toBeGreaterThan(Math.max(...before.map((row) => Number(row.id))));
    const { rows: indexes } = await db.query<{ name: string }>(
      `SELECT indexrelid::regclass::text AS name FROM pg_index WHERE indrelid = 'relay_check'::regclass ORDER BY 1`,
    );
    expect(indexes.map((row) => row.name)).toEqual(['relay_check_latest_idx', 'relay_check_metadata_idx', 'relay_check_pkey']);
  });
});

describe('bigbrotr maintenance', () => {
  it('reports the plan with --dry-run, then does it', async () => {
    const database = await createCliDatabase();
    cleanups.push(database.dispose);
    const env = { ...database.env, BIGBROTR_MAINTENANCE__PARTITIONS_AHEAD_MONTHS: '5' };
    const dry = await runCli(['maintenance', '--dry-run', '--json'], env);
    expect(dry.code, dry.stderr).toBe(0);
    const plan = JSON.parse(dry.stdout) as MaintenanceReport;
    expect(plan.dryRun).toBe(true);
    expect(plan.created.map((action) => action.table)).toEqual(['relay_check', 'relay_check']); // months 4 and 5 ahead
    const done = await runCli(['maintenance'], env);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toContain('maintenance: create 2 partition(s), drop 0, remove 0 orphan metadata document(s)');
    for (const action of plan.created) expect(done.stdout).toContain(`created ${action.name} [${action.from}, ${action.to})`);
  });
});

describe.runIf(testDatabaseKind === 'postgres')("maintenance as the services' role (no DDL rights)", () => {
  it('creates, replaces and drops partitions through the functions of 0008 and 0013; a read-only role may not', async () => {
    const writer = `bigbrotr_maint_${process.pid}_${randomBytes(3).toString('hex')}`;
    const reader = `${writer}_ro`;
    const password = randomBytes(12).toString('hex');
    const admin = async (sql: string) => {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(sql);
      } finally {
        await client.end();
      }
    };
    // Pushed first, so it runs after the database is dropped.
    cleanups.push(async () => {
      for (const role of [writer, reader]) await admin(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
    });
    const test = await createTestDatabase();
    cleanups.push(test.dispose);
    const owner = test.db;
    await owner.exec(`
      CREATE ROLE ${writer} LOGIN PASSWORD '${password}';
      CREATE ROLE ${reader} LOGIN PASSWORD '${password}';
      GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${writer};
      GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${writer};
      ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${writer};
      GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${reader};`);
    const as = async (role: string) => {
      const url = new URL(test.config.url as string);
      url.username = role;
      url.password = password;
      const db = await openDatabase({ ...databaseSchema.parse({}), url: url.toString(), pool_size: 2 });
      cleanups.push(() => db.close());
      return db;
    };
    const services = await as(writer);
    await expect(services.exec('CREATE TABLE maintenance_probe (x int)')).rejects.toThrow(/permission denied/);

    const relayId = await addRelay(owner);
    const twoYearsAgo = new Date(Date.now() - 730 * DAY * 1000);
    await owner.query('SELECT bigbrotr_create_relay_check_partition($1::timestamptz)', [twoYearsAgo.toISOString()]);
    await storeRelayChecks(owner, relayId, [{ type: 'open', checkedAt: twoYearsAgo, ok: true }]);
    await insertEventBatch(owner, generateEvents({ count: 3, createdAt: Date.UTC(2020, 5, 1) / 1000, seed: 'roles-old' }), relayId);

    const report = await runMaintenance({
      db: services,
      config: configWith({ partitions_ahead_months: 5, event_retention_days: 3 * 365, check_retention_days: 400 }),
    });
    expect(report?.created).toHaveLength(2);
    expect(report?.dropped.map((action) => action.name)).toContain('event_y2020');
    expect(report?.dropped.some((action) => action.table === 'relay_check')).toBe(true);
    expect(report?.eventRelayRemoved).toBe(3);
    expect(report?.analyzed).toEqual(expect.arrayContaining(['event', 'relay_check', 'event_relay']));
    // The new partitions belong to the functions' owner and take the services' rows.
    const newest = report?.created.at(-1);
    await storeRelayChecks(services, relayId, [{ type: 'open', checkedAt: new Date(newest?.from as string), ok: true }]);
    expect(await count(owner, `SELECT count(*) AS n FROM ${newest?.name}`)).toBe(1);

    const readOnly = await as(reader);
    const refused = await readOnly.query(`SELECT bigbrotr_drop_relay_check_partition($1)`, [newest?.name]).catch((error: unknown) => error);
    expect((refused as { code?: string }).code).toBe('42501');
    await expect(readOnly.query(`SELECT bigbrotr_create_relay_check_partition(now() + interval '2 years')`)).rejects.toThrow(
      /permission denied/,
    );
    expect(await count(owner, `SELECT count(*) AS n FROM ${newest?.name}`)).toBe(1);

    // Monthly event partitions (migration 0013): the services' role replaces this year's empty partition; a read-only role may not.
    const thisYear = `event_y${new Date().getUTCFullYear()}`;
    await expect(readOnly.query(`SELECT bigbrotr_dissolve_event_partition($1, 0)`, [thisYear])).rejects.toThrow(/permission denied/);
    const monthly = await runMaintenance({
      db: services,
      config: configWith({ event_partition_interval: 'month', check_retention_days: 0 }),
    });
    expect(monthly?.split.map((action) => action.name)).toContain(thisYear);
    expect(await partitionsOf(owner, 'event')).toContain(`${thisYear}m01`);
  });
});
