/**
 * The archive's counters (migration 0014, src/db/archive-counters.ts) against the real counts after
 * every way rows arrive or leave: concurrent inserters, known events seen on new relays, deletions
 * through event and event_relay (the relay cascade, an operator's DELETE), updates, TRUNCATE,
 * retention of event and relay_check partitions (whole, and interrupted after the detach), orphan
 * metadata removal, partition splits, folding, and the recount of the migration.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { configSchema, type Config } from '../../src/config/schema.js';
import {
  archiveTotals,
  counterBreakdown,
  foldArchiveCounters,
  recountArchive,
  uncountExpiredEventTable,
} from '../../src/db/archive-counters.js';
import type { Database, Queryable } from '../../src/db/database.js';
import { insertEventBatch } from '../../src/db/events.js';
import { storeRelayChecks } from '../../src/db/relay-checks.js';
import { runMaintenance } from '../../src/services/maintenance/maintenance.js';
import { createTestDatabase, testDatabaseKind } from '../support/database.js';
import { generateEvents } from '../support/events.js';

const DAY = 86_400;
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function freshDatabase(poolSize = 4): Promise<Database> {
  const test = await createTestDatabase({ poolSize });
  cleanups.push(test.dispose);
  return test.db;
}

async function addRelay(db: Queryable, url: string): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO relay (url, network, state, discovered_from) VALUES ($1, 'clearnet', 'active', 'seed') RETURNING id`,
    [url],
  );
  return rows[0]?.id as number;
}

async function scalar(db: Queryable, sql: string): Promise<number> {
  const { rows } = await db.query<{ n: string }>(sql);
  return Number(rows[0]?.n);
}

async function grouped(db: Queryable, expression: string): Promise<{ key: number; value: number }[]> {
  const { rows } = await db.query<{ key: string; value: string }>(
    `SELECT ${expression} AS key, count(*) AS value FROM event GROUP BY 1 ORDER BY 1`,
  );
  return rows.map((row) => ({ key: Number(row.key), value: Number(row.value) }));
}

/** Every counter equals the count it stands for, computed by scanning the tables. */
async function expectExact(db: Queryable): Promise<void> {
  expect(await archiveTotals(db)).toEqual({
    events: await scalar(db, 'SELECT count(*) AS n FROM event'),
    event_relay: await scalar(db, 'SELECT count(*) AS n FROM event_relay'),
    relay_check: await scalar(db, 'SELECT count(*) AS n FROM relay_check'),
    metadata: await scalar(db, 'SELECT count(*) AS n FROM metadata'),
  });
  expect(await counterBreakdown(db, 'events_by_kind')).toEqual(await grouped(db, 'kind'));
  expect(await counterBreakdown(db, 'events_by_created_day')).toEqual(await grouped(db, 'floor(created_at / 86400.0)::bigint'));
  expect(await counterBreakdown(db, 'events_by_archived_day')).toEqual(
    await grouped(db, 'floor(extract(epoch FROM archived_at) / 86400)::bigint'),
  );
}

function configWith(maintenance: Partial<Config['maintenance']>): Config {
  return configSchema.parse({ maintenance });
}

describe('archive counters', () => {
  it('count concurrent inserters exactly, known events only as new pairs, and fold without changing a count', async () => {
    const db = await freshDatabase(8);
    const relays = await Promise.all(['a', 'b', 'c', 'd'].map((name) => addRelay(db, `wss://${name}.example.com/`)));
    const now = Math.floor(Date.now() / 1000);
    const events = generateEvents({
      count: 600,
      kinds: [1, 7, 0, 30023, 1111],
      createdAt: [now - 40 * DAY, now + 3_600],
      seed: 'counters',
    });
    await expectExact(db);
    // Four inserters at once, overlapping: each relay serves a different two thirds of the events, in
    // statements of 7 (232 in all). The statement sequence set so that the 256th, which folds in
    // passing, comes while the others insert.
    await db.query(`SELECT setval('archive_counter_statement_seq', 100)`);
    await Promise.all(
      relays.map(async (relayId, index) => {
        const served = events.filter((_, n) => n % 3 !== index % 3);
        await insertEventBatch(db, served, relayId, { batchSize: 7 });
      }),
    );
    expect(await scalar(db, 'SELECT count(*) AS n FROM event')).toBe(600);
    expect(await scalar(db, 'SELECT count(*) AS n FROM archive_counter')).toBeGreaterThan(0);
    await expectExact(db);

    // Known events seen again: on the same relays nothing changes; on a new relay only pairs are new.
    const again = await insertEventBatch(db, events.slice(0, 100), relays[0] as number);
    // Relay a had not served the 34 of them it now sends.
    expect(again).toEqual({ newEvents: 0, newRelayLinks: 34 });
    await expectExact(db);
    const before = await archiveTotals(db);
    const fifth = await addRelay(db, 'wss://e.example.com/');
    const seen = await insertEventBatch(db, events.slice(0, 100), fifth);
    expect(seen).toEqual({ newEvents: 0, newRelayLinks: 100 });
    expect(await archiveTotals(db)).toEqual({ ...before, event_relay: before.event_relay + 100 });
    await expectExact(db);

    // Folding moves the delta rows into archive_counter and changes no count.
    expect(await foldArchiveCounters(db)).toBeGreaterThan(0);
    expect(await scalar(db, 'SELECT count(*) AS n FROM archive_counter_delta')).toBe(0);
    await expectExact(db);
    expect(await foldArchiveCounters(db)).toBe(0);
  });

  it('fold in passing every 256th statement on event, so delta rows stay few without a service', async () => {
    const db = await freshDatabase();
    const relayId = await addRelay(db, 'wss://a.example.com/');
    const events = generateEvents({ count: 300, kinds: [1, 7], seed: 'passing' });
    for (const event of events) await insertEventBatch(db, [event], relayId);
    // 300 statements: one fold in passing; what is left is at most the last 255 statements' rows.
    expect(await scalar(db, `SELECT value AS n FROM archive_counter WHERE metric = 'events'`)).toBeGreaterThanOrEqual(256);
    expect(await scalar(db, `SELECT count(*) AS n FROM archive_counter_delta WHERE metric = 'events'`)).toBeLessThan(256);
    await expectExact(db);
  });

  it('follow deletions (operator DELETE, relay cascade), updates and TRUNCATE, and a recount agrees', async () => {
    const db = await freshDatabase();
    const relayA = await addRelay(db, 'wss://a.example.com/');
    const relayB = await addRelay(db, 'wss://b.example.com/');
    const events = generateEvents({ count: 50, kinds: [1, 7, 3], seed: 'deletions' });
    await insertEventBatch(db, events, relayA);
    await insertEventBatch(db, events.slice(0, 20), relayB);
    await foldArchiveCounters(db);

    await db.query('DELETE FROM event WHERE kind = 7');
    await expectExact(db);
    await db.query('UPDATE event SET kind = 4 WHERE kind = 3');
    await db.query(`UPDATE event SET created_at = created_at + 10 * 86400, archived_at = archived_at - interval '3 days' WHERE kind = 1`);
    await expectExact(db);
    // Deleting a relay deletes its pairs (migration 0012's cascade, a DELETE on event_relay).
    await db.query('DELETE FROM relay WHERE id = $1', [relayB]);
    expect((await archiveTotals(db)).event_relay).toBe(50);
    await expectExact(db);

    const maintained = { totals: await archiveTotals(db), kinds: await counterBreakdown(db, 'events_by_kind') };
    await recountArchive(db);
    expect(await scalar(db, 'SELECT count(*) AS n FROM archive_counter_delta')).toBe(0);
    expect({ totals: await archiveTotals(db), kinds: await counterBreakdown(db, 'events_by_kind') }).toEqual(maintained);

    await db.query('TRUNCATE event');
    await db.query('TRUNCATE relay CASCADE');
    await expectExact(db);
    expect(await archiveTotals(db)).toEqual({ events: 0, event_relay: 0, relay_check: 0, metadata: 0 });
  });

  it('follow retention: event and relay_check partitions dropped, orphan metadata removed, a run interrupted after the detach', async () => {
    const db = await freshDatabase();
    const relayA = await addRelay(db, 'wss://a.example.com/');
    const relayB = await addRelay(db, 'wss://b.example.com/');
    const now = new Date();
    const nowSeconds = Math.floor(now.getTime() / 1000);
    const old = generateEvents({
      count: 30,
      kinds: [1, 7],
      createdAt: [Date.UTC(2020, 2, 1) / 1000, Date.UTC(2020, 10, 1) / 1000],
      seed: 'old',
    });
    const older = generateEvents({
      count: 12,
      kinds: [3],
      createdAt: [Date.UTC(2021, 0, 5) / 1000, Date.UTC(2021, 5, 5) / 1000],
      seed: 'older',
    });
    const recent = generateEvents({ count: 20, kinds: [1, 0], createdAt: [nowSeconds - 10 * DAY, nowSeconds - DAY], seed: 'recent' });
    for (const relayId of [relayA, relayB]) await insertEventBatch(db, [...old, ...older, ...recent], relayId);
    const twoYearsAgo = new Date(now.getTime() - 730 * DAY * 1000);
    await storeRelayChecks(db, relayA, [
      { type: 'nip11', checkedAt: twoYearsAgo, ok: true, document: { name: 'old relay' } },
      { type: 'open', checkedAt: now, ok: true, rttMs: 7 },
    ]);
    await db.query('SELECT bigbrotr_create_relay_check_partition($1::timestamptz)', [twoYearsAgo.toISOString()]);
    await db.query('UPDATE metadata SET first_seen_at = $1', [twoYearsAgo.toISOString()]);
    await expectExact(db);

    // An interrupted run left event_y2021 detached: its events are out of the archive, not yet out of the counts.
    await db.exec('ALTER TABLE event DETACH PARTITION event_y2021; ALTER TABLE event_y2021 RENAME TO bigbrotr_expired_event_y2021');
    expect((await archiveTotals(db)).events).toBe(62);
    expect(await uncountExpiredEventTable(db, 'bigbrotr_expired_event_y2021')).toBe(12);
    // Once only, however often it is asked.
    expect(await uncountExpiredEventTable(db, 'bigbrotr_expired_event_y2021')).toBeNull();
    expect((await archiveTotals(db)).events).toBe(50);

    const report = await runMaintenance({
      db,
      config: configWith({ event_retention_days: 3 * 365, check_retention_days: 400, batch_size: 7 }),
      now,
    });
    expect(report?.dropped.map((action) => action.name)).toEqual(expect.arrayContaining(['event_y2020', 'event_y2021']));
    expect(report?.orphanMetadata).toBe(1);
    expect(await archiveTotals(db)).toEqual({ events: 20, event_relay: 40, relay_check: 1, metadata: 0 });
    await expectExact(db);
    expect(await scalar(db, 'SELECT count(*) AS n FROM archive_counter_uncounted')).toBe(0);
  });

  it('subtract an expired partition dropped without being uncounted first', async () => {
    const db = await freshDatabase();
    const relayId = await addRelay(db, 'wss://a.example.com/');
    await insertEventBatch(
      db,
      generateEvents({ count: 9, createdAt: [Date.UTC(2022, 3, 1) / 1000, Date.UTC(2022, 4, 1) / 1000], seed: 'dropped' }),
      relayId,
    );
    await insertEventBatch(db, generateEvents({ count: 4, createdAt: Date.UTC(2023, 3, 1) / 1000, seed: 'kept' }), relayId);
    await db.exec('ALTER TABLE event DETACH PARTITION event_y2022; ALTER TABLE event_y2022 RENAME TO bigbrotr_expired_event_y2022');
    await db.query('DELETE FROM event_relay er USING bigbrotr_expired_event_y2022 x WHERE er.event_id = x.id');
    expect(await scalar(db, `SELECT bigbrotr_drop_expired_event_table('bigbrotr_expired_event_y2022')::int AS n`)).toBe(1);
    expect((await archiveTotals(db)).events).toBe(4);
    await expectExact(db);
  });

  it('count rows that move between partitions once (a new partition taking rows of the default one, a split)', async () => {
    const db = await freshDatabase();
    const relayId = await addRelay(db, 'wss://a.example.com/');
    // 2035 has no partition yet: the default one holds these until maintenance creates it.
    await insertEventBatch(
      db,
      generateEvents({ count: 6, createdAt: [Date.UTC(2035, 1, 1) / 1000, Date.UTC(2035, 6, 1) / 1000], seed: 'future' }),
      relayId,
    );
    await db.query('SELECT bigbrotr_create_event_partition($1, $2, $3)', [
      'event_y2035',
      Date.UTC(2035, 0, 1) / 1000,
      Date.UTC(2036, 0, 1) / 1000,
    ]);
    expect(await scalar(db, 'SELECT count(*) AS n FROM event_y2035')).toBe(6);
    await expectExact(db);
    const { rows } = await db.query<{ found: boolean }>(
      `SELECT to_regprocedure('bigbrotr_dissolve_event_partition(text, integer)') IS NOT NULL AS found`,
    );
    if (rows[0]?.found) {
      // Migration 0013's split puts a partition's rows back through event: a move, not new events.
      expect(await scalar(db, `SELECT bigbrotr_dissolve_event_partition('event_y2035', 100)::int AS n`)).toBe(1);
      expect(await scalar(db, 'SELECT count(*) AS n FROM event_default')).toBe(6);
      await expectExact(db);
    }
  });

  it.runIf(testDatabaseKind === 'postgres')(
    'leave inserters of the same kinds and days waiting for nobody (no row locks on counters)',
    async () => {
      const db = await freshDatabase(4);
      const relayId = await addRelay(db, 'wss://a.example.com/');
      const [first, second] = [generateEvents({ count: 5, seed: 'tx1' }), generateEvents({ count: 5, seed: 'tx2' })];
      // Two open transactions insert events of the same kind and day; neither commits before the other has inserted.
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      const one = db.transaction(async (tx) => {
        await insertEventBatch(tx, first, relayId);
        await held;
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const started = Date.now();
      await db.transaction(async (tx) => {
        await tx.query(`SET LOCAL lock_timeout = '2s'`);
        await insertEventBatch(tx, second, relayId);
      });
      expect(Date.now() - started).toBeLessThan(1_500);
      release();
      await one;
      await expectExact(db);
    },
  );
});
