/**
 * Monthly event partitions on a real database (maintenance.event_partition_interval: month): created
 * ahead (an empty yearly partition replaced, its rows moved), retention dropping exactly the expired
 * months with their event_relay rows, yearly and monthly partitions side by side without overlap,
 * and rows stranded in event_default moved into a new partition, with the default's row count.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { configSchema, type Config } from '../../src/config/schema.js';
import type { Database } from '../../src/db/database.js';
import { insertEventBatch } from '../../src/db/events.js';
import { runMaintenance, type MaintenanceReport } from '../../src/services/maintenance/maintenance.js';
import { createTestDatabase } from '../support/database.js';
import { generateEvents } from '../support/events.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const at = (iso: string) => Date.parse(iso) / 1000;

function configWith(maintenance: Partial<Config['maintenance']>): Config {
  return configSchema.parse({ maintenance: { check_retention_days: 0, ...maintenance } });
}

async function freshDatabase(): Promise<Database> {
  const test = await createTestDatabase();
  cleanups.push(test.dispose);
  return test.db;
}

async function addRelay(db: Database, url: string): Promise<number> {
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

interface Ranged {
  name: string;
  from: number | null;
  to: number | null;
}

/** The event partitions with their ranges (unix seconds; null for the default partition). */
async function eventPartitions(db: Database): Promise<Ranged[]> {
  const { rows } = await db.query<{ name: string; bound: string }>(
    `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'event'::regclass ORDER BY 1`,
  );
  return rows.map((row) => {
    const match = /FROM \('?(-?\d+)'?\) TO \('?(-?\d+)'?\)/.exec(row.bound);
    return { name: row.name, from: match ? Number(match[1]) : null, to: match ? Number(match[2]) : null };
  });
}

/** No two ranged event partitions overlap, and [from, to) is covered without a gap. */
async function expectTiled(db: Database, from: number, to: number): Promise<void> {
  const ranged = (await eventPartitions(db))
    .filter((info): info is Ranged & { from: number; to: number } => info.from !== null && info.to !== null)
    .sort((a, b) => a.from - b.from);
  for (const [index, partition] of ranged.entries()) {
    const next = ranged[index + 1];
    if (next) expect(partition.to <= next.from, `${partition.name} overlaps ${next.name}`).toBe(true);
  }
  let reached = from;
  for (const partition of ranged) if (partition.from <= reached && partition.to > reached) reached = partition.to;
  expect(new Date(reached * 1000).toISOString(), `partitions cover [${new Date(from * 1000).toISOString()}, …) up to`).toBe(
    new Date(Math.max(reached, to) * 1000).toISOString(),
  );
}

function report(value: MaintenanceReport | undefined): MaintenanceReport {
  if (!value) throw new Error('no report: lease held elsewhere');
  return value;
}

async function partitionOf(db: Database, id: string | undefined): Promise<string | undefined> {
  const { rows } = await db.query<{ name: string }>(`SELECT tableoid::regclass::text AS name FROM event WHERE id = decode($1, 'hex')`, [
    id,
  ]);
  return rows[0]?.name;
}

describe('maintenance: monthly event partitions', () => {
  it('replaces an empty yearly partition by months ahead, moves its few rows, and keeps a fuller one', async () => {
    const db = await freshDatabase();
    const relayId = await addRelay(db, 'wss://a.example.com/');
    const [january, april, august] = ['2027-01-10', '2027-04-02', '2027-08-20'].map(
      (day) => generateEvents({ count: 1, createdAt: at(`${day}T00:00:00Z`), seed: `y${day}` })[0],
    );
    const full2026 = generateEvents({ count: 3, createdAt: [at('2026-02-01T00:00:00Z'), at('2026-12-01T00:00:00Z')], seed: 'y2026' });
    await insertEventBatch(
      db,
      [january, april, august].map((event) => event as NonNullable<typeof event>),
      relayId,
    );
    await insertEventBatch(db, full2026, relayId);
    expect(await partitionOf(db, april?.id)).toBe('event_y2027');

    // Late 2026, two months ahead: the window reaches January 2027. event_y2026 holds 3 rows (more than
    // the cap of 2 here): it keeps its range, and its months are not created beside it.
    const config = configWith({ event_partition_interval: 'month', partitions_ahead_months: 2 });
    const late2026 = report(await runMaintenance({ db, config, now: new Date('2026-11-20T00:00:00Z'), splitMaxRows: 2 }));
    expect(late2026.split).toEqual([]);
    expect(late2026.created.filter((action) => action.table === 'event')).toEqual([]);
    expect(late2026.warnings).toEqual([]);

    // Spring 2027: event_y2027 (3 rows, within the cap of 3) gives way to January–May.
    const now = new Date('2027-03-15T12:00:00Z');
    const dry = report(await runMaintenance({ db, config, now, splitMaxRows: 3, dryRun: true }));
    expect(dry.split).toEqual([
      {
        table: 'event',
        name: 'event_y2027',
        from: '2027-01-01T00:00:00.000Z',
        to: '2028-01-01T00:00:00.000Z',
        rows: 3,
        into: ['event_y2027m01', 'event_y2027m02', 'event_y2027m03', 'event_y2027m04', 'event_y2027m05'],
      },
    ]);
    expect((await eventPartitions(db)).map((info) => info.name)).toContain('event_y2027');

    const real = report(await runMaintenance({ db, config, now, splitMaxRows: 3 }));
    expect(real.split).toEqual(dry.split);
    expect(real.created.filter((action) => action.table === 'event').map((action) => action.name)).toEqual(dry.split[0]?.into);
    expect(real.warnings).toEqual([]);
    const names = (await eventPartitions(db)).map((info) => info.name);
    expect(names).not.toContain('event_y2027');
    expect(names).toEqual(expect.arrayContaining(['event_y2026', 'event_y2027m01', 'event_y2027m05', 'event_y2028', 'event_default']));
    expect(names).not.toContain('event_y2027m06');
    // Its rows moved into their months; August is beyond the months ahead: it waits in the default partition.
    expect(await partitionOf(db, january?.id)).toBe('event_y2027m01');
    expect(await partitionOf(db, april?.id)).toBe('event_y2027m04');
    expect(await partitionOf(db, august?.id)).toBe('event_default');
    expect(real.defaultPartitionRows.event).toBe(1);
    expect(await count(db, 'SELECT count(*) AS n FROM event')).toBe(6);
    expect(await count(db, 'SELECT count(*) AS n FROM event_relay')).toBe(6);
    await expectTiled(db, at('2020-01-01T00:00:00Z'), at('2027-06-01T00:00:00Z'));

    // New events go to their month; a second run has nothing to do.
    const [may] = generateEvents({ count: 1, createdAt: at('2027-05-30T00:00:00Z'), seed: 'may' });
    await insertEventBatch(db, [may as NonNullable<typeof may>], relayId);
    expect(await partitionOf(db, may?.id)).toBe('event_y2027m05');
    const again = report(await runMaintenance({ db, config, now, splitMaxRows: 3 }));
    expect([again.split, again.created]).toEqual([[], []]);

    // Two months later the window reaches August: its partition is created and the stranded row moves in.
    const summer = report(await runMaintenance({ db, config, now: new Date('2027-06-10T00:00:00Z') }));
    expect(summer.created.filter((action) => action.table === 'event').map((action) => [action.name, action.strandedRows])).toEqual([
      ['event_y2027m06', undefined],
      ['event_y2027m07', undefined],
      ['event_y2027m08', 1],
    ]);
    expect(await partitionOf(db, august?.id)).toBe('event_y2027m08');
    expect(summer.defaultPartitionRows.event).toBe(0);
    await expectTiled(db, at('2020-01-01T00:00:00Z'), at('2027-09-01T00:00:00Z'));

    // Back to yearly partitions: the rest of 2027 is completed month by month, nothing overlaps.
    const yearly = report(
      await runMaintenance({ db, config: configWith({ partitions_ahead_months: 2 }), now: new Date('2027-06-10T00:00:00Z') }),
    );
    expect(yearly.created.filter((action) => action.table === 'event').map((action) => action.name)).toEqual([
      'event_y2027m09',
      'event_y2027m10',
      'event_y2027m11',
      'event_y2027m12',
    ]);
    expect(yearly.warnings).toEqual([]);
    await expectTiled(db, at('2020-01-01T00:00:00Z'), at('2031-01-01T00:00:00Z'));
  });

  it('retention drops exactly the expired months (and yearly partitions beside them) with their event_relay rows', async () => {
    const db = await freshDatabase();
    const relayA = await addRelay(db, 'wss://a.example.com/');
    const relayB = await addRelay(db, 'wss://b.example.com/');
    const config = configWith({ event_partition_interval: 'month', partitions_ahead_months: 2 });
    const now = new Date('2027-03-15T12:00:00Z');
    expect(report(await runMaintenance({ db, config, now })).split.map((entry) => entry.name)).toEqual(['event_y2027']);

    const december = generateEvents({ count: 4, createdAt: [at('2026-12-01T00:00:00Z'), at('2026-12-31T00:00:00Z')], seed: 'dec' });
    const january = generateEvents({ count: 5, createdAt: [at('2027-01-02T00:00:00Z'), at('2027-01-30T00:00:00Z')], seed: 'jan' });
    const february = generateEvents({ count: 6, createdAt: [at('2027-02-01T00:00:00Z'), at('2027-02-28T23:59:59Z')], seed: 'feb' });
    const march = generateEvents({ count: 7, createdAt: [at('2027-03-01T00:00:00Z'), at('2027-03-14T00:00:00Z')], seed: 'mar' });
    const absurd = generateEvents({ count: 2, createdAt: 42, seed: 'absurd' }); // 1970: the default partition, never dropped
    for (const relayId of [relayA, relayB])
      await insertEventBatch(db, [...december, ...january, ...february, ...march, ...absurd], relayId);
    // An event_relay row of a kept event, seen on one relay only.
    const [onlyA] = generateEvents({ count: 1, createdAt: at('2027-03-10T00:00:00Z'), seed: 'only-a' });
    await insertEventBatch(db, [onlyA as NonNullable<typeof onlyA>], relayA);

    // Cutoff 2027-03-05: December (in event_y2026), January and February go; March stays.
    const retention = configWith({ event_partition_interval: 'month', partitions_ahead_months: 2, event_retention_days: 10 });
    const dry = report(await runMaintenance({ db, config: retention, now, dryRun: true }));
    const expired = [
      'event_y2020',
      'event_y2021',
      'event_y2022',
      'event_y2023',
      'event_y2024',
      'event_y2025',
      'event_y2026',
      'event_y2027m01',
      'event_y2027m02',
    ];
    expect(dry.dropped.map((action) => action.name).sort()).toEqual(expired);
    expect(dry.defaultPartitionRows.event).toBe(2);
    const real = report(await runMaintenance({ db, config: retention, now }));
    expect(real.dropped.map((action) => action.name).sort()).toEqual(expired);
    expect(real.eventRelayRemoved).toBe(2 * (december.length + january.length + february.length));

    const names = (await eventPartitions(db)).map((info) => info.name);
    for (const name of expired) expect(names).not.toContain(name);
    expect(names).toEqual(expect.arrayContaining(['event_y2027m03', 'event_y2027m04', 'event_y2027m05', 'event_default']));
    expect(await count(db, 'SELECT count(*) AS n FROM event')).toBe(march.length + absurd.length + 1);
    expect(await count(db, 'SELECT count(*) AS n FROM event_relay')).toBe(2 * (march.length + absurd.length) + 1);
    expect(
      await count(db, 'SELECT count(*) AS n FROM event_relay er WHERE NOT EXISTS (SELECT 1 FROM event e WHERE e.id = er.event_id)'),
    ).toBe(0);
    const kept = [...march, ...absurd, onlyA].map((event) => event?.id as string);
    expect(await count(db, `SELECT count(*) AS n FROM event WHERE encode(id, 'hex') = ANY($1::text[])`, [kept])).toBe(kept.length);
    expect(real.defaultPartitionRows.event).toBe(2);
  });

  it('moves rows stranded in event_default into a new partition, within the bounds, and reports what stays', async () => {
    const db = await freshDatabase();
    const relayId = await addRelay(db, 'wss://a.example.com/');
    const y2024 = ['2024-04-02', '2024-06-30', '2024-07-01', '2024-09-20'].flatMap((day) =>
      generateEvents({ count: 1, createdAt: at(`${day}T00:00:00Z`), seed: `y${day}` }),
    );
    const odd = [
      ...generateEvents({ count: 2, createdAt: 42, seed: 'y1970' }),
      ...generateEvents({ count: 1, createdAt: at('2099-01-01T00:00:00Z'), seed: 'y2099' }),
    ];
    await insertEventBatch(db, [...y2024, ...odd], relayId);
    // What a partition dropped by hand (or lost) leaves: its rows in the default partition.
    const { rows } = await db.query<{ done: boolean }>(`SELECT bigbrotr_dissolve_event_partition('event_y2024', 100) AS done`);
    expect(rows[0]?.done).toBe(true);
    expect(await count(db, 'SELECT count(*) AS n FROM event_default')).toBe(7);

    const now = new Date('2026-06-01T00:00:00Z');
    const monthly = configWith({ event_partition_interval: 'month' });
    const dry = report(await runMaintenance({ db, config: monthly, now, dryRun: true }));
    expect(dry.defaultPartitionRows.event).toBe(7);
    const real = report(await runMaintenance({ db, config: monthly, now }));
    const of2024 = (value: MaintenanceReport) =>
      value.created.filter((action) => action.name.startsWith('event_y2024')).map((action) => [action.name, action.strandedRows]);
    expect(real.created).toEqual(dry.created);
    expect(of2024(real)).toEqual([
      ['event_y2024m04', 1],
      ['event_y2024m06', 1],
      ['event_y2024m07', 1],
      ['event_y2024m09', 1],
    ]);
    // 1970 and 2099 stay; everything of 2024 is out of the default partition and still in the archive.
    expect(real.defaultPartitionRows.event).toBe(3);
    expect(await count(db, 'SELECT count(*) AS n FROM event_default')).toBe(3);
    expect(await count(db, 'SELECT count(*) AS n FROM event')).toBe(7);
    expect(await count(db, 'SELECT count(*) AS n FROM event_relay')).toBe(7);
    expect(await partitionOf(db, y2024[0]?.id)).toBe('event_y2024m04');

    // With yearly partitions the same rows get back their year.
    await db.query(
      `SELECT bigbrotr_dissolve_event_partition(name, 100) FROM unnest(ARRAY['event_y2024m04', 'event_y2024m06', 'event_y2024m07', 'event_y2024m09']) AS name`,
    );
    const yearly = report(await runMaintenance({ db, config: configWith({}), now }));
    expect(of2024(yearly)).toEqual([['event_y2024', 4]]);
    expect(yearly.defaultPartitionRows.event).toBe(3);
  });
});
