import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { collectStats } from '../../src/db/stats.js';
import { recordPassOutcome } from '../../src/db/sync-cursors.js';
import { insertOwed } from '../../src/db/sync-gaps.js';
import { dueRelays } from '../../src/db/sync-schedule.js';
import { getOrCreateRelayIds, insertCandidates, listRelays, setRelayState } from '../../src/db/relays.js';
import { insertEventBatch } from '../../src/db/events.js';
import { knownMaxLimit } from '../../src/db/relay-metadata.js';
import { openDatabase } from '../../src/db/open.js';
import { DatabaseError } from '../../src/db/errors.js';
import { databaseSchema } from '../../src/config/schema.js';
import { createTestDatabase, testDatabaseKind, type TestDatabase } from '../support/database.js';
import { storageEvent } from '../support/event-fixtures.js';

let test: TestDatabase;
beforeAll(async () => {
  test = await createTestDatabase();
});
afterAll(async () => {
  await test?.dispose();
});

describe('relays repository', () => {
  it('inserts candidates once, counts what is new, and bumps mentions of known ones', async () => {
    const first = await insertCandidates(
      test.db,
      [
        { url: 'wss://one.example/', network: 'clearnet' },
        { url: 'ws://x.onion/', network: 'tor' },
        { url: 'wss://one.example/', network: 'clearnet' },
      ],
      'seed',
    );
    expect(first).toEqual({ inserted: 2, alreadyKnown: 0 });
    const second = await insertCandidates(
      test.db,
      [
        { url: 'wss://one.example/', network: 'clearnet' },
        { url: 'wss://two.example/', network: 'clearnet' },
      ],
      'event',
    );
    expect(second).toEqual({ inserted: 1, alreadyKnown: 1 });
    const { rows } = await test.db.query<{ url: string; mention_count: number; discovered_from: string; state: string }>(
      'SELECT url, mention_count, discovered_from, state FROM relay ORDER BY url',
    );
    expect(rows).toEqual([
      { url: 'ws://x.onion/', mention_count: 1, discovered_from: 'seed', state: 'candidate' },
      { url: 'wss://one.example/', mention_count: 2, discovered_from: 'seed', state: 'candidate' },
      { url: 'wss://two.example/', mention_count: 1, discovered_from: 'event', state: 'candidate' },
    ]);
    expect(await insertCandidates(test.db, [], 'seed')).toEqual({ inserted: 0, alreadyKnown: 0 });
  });

  it('resolves ids, changes state, and lists by state and network', async () => {
    const ids = await getOrCreateRelayIds(
      test.db,
      [
        { url: 'wss://one.example/', network: 'clearnet' },
        { url: 'wss://three.example/', network: 'clearnet' },
      ],
      'api',
    );
    expect(ids.size).toBe(2);
    await setRelayState(test.db, ids.get('wss://one.example/') as number, 'active');
    expect((await listRelays(test.db, { state: 'active' })).map((relay) => relay.url)).toEqual(['wss://one.example/']);
    expect((await listRelays(test.db, { network: 'tor' })).map((relay) => relay.url)).toEqual(['ws://x.onion/']);
    expect((await listRelays(test.db)).length).toBe(4);
  });

  it('refuses an unknown network or state at the database level too', async () => {
    await expect(
      test.db.query(`INSERT INTO relay (url, network, discovered_from) VALUES ('wss://bad/', 'moon', 'x')`),
    ).rejects.toBeInstanceOf(DatabaseError);
  });
});

describe('views and stats', () => {
  it('relay_metadata_latest shows the newest check per relay and type with its document, stored once', async () => {
    const [relay] = [...(await getOrCreateRelayIds(test.db, [{ url: 'wss://meta.example/', network: 'clearnet' }], 'test')).values()];
    const document = JSON.stringify({ name: 'meta relay', supported_nips: [1, 11] });
    const documentId = createHash('sha256').update(`nip11\n${document}`).digest('hex');
    for (let index = 0; index < 3; index += 1) {
      await test.db.query(`INSERT INTO metadata (id, type, data) VALUES (decode($1, 'hex'), 'nip11', $2::jsonb) ON CONFLICT DO NOTHING`, [
        documentId,
        document,
      ]);
    }
    const checks: [string, string, boolean, number | null][] = [
      ['nip11', '2026-01-01T00:00:00Z', true, 40],
      ['nip11', '2026-01-03T00:00:00Z', true, 35],
      ['nip11', '2026-01-02T00:00:00Z', false, null],
      ['open', '2026-01-02T00:00:00Z', true, 12],
    ];
    for (const [type, at, ok, rtt] of checks) {
      await test.db.query(
        `INSERT INTO relay_check (relay_id, check_type, checked_at, ok, rtt_ms, metadata_id) VALUES ($1, $2, $3, $4, $5, CASE WHEN $2 = 'nip11' AND $4 THEN decode($6, 'hex') END)`,
        [relay, type, at, ok, rtt, documentId],
      );
    }
    const { rows } = await test.db.query<{ check_type: string; checked_at: Date; rtt_ms: number; data: { name: string } | null }>(
      `SELECT check_type, checked_at, rtt_ms, data FROM relay_metadata_latest WHERE relay_id = $1 ORDER BY check_type`,
      [relay],
    );
    expect(rows.map((row) => [row.check_type, row.checked_at.toISOString(), row.rtt_ms])).toEqual([
      ['nip11', '2026-01-03T00:00:00.000Z', 35],
      ['open', '2026-01-02T00:00:00.000Z', 12],
    ]);
    expect(rows[0]?.data?.name).toBe('meta relay');
    const metadataCount = await test.db.query<{ n: number }>(`SELECT count(*) AS n FROM metadata`);
    expect(metadataCount.rows[0]?.n).toBe(1);
  });

  it('knownMaxLimit reads limitation.max_limit from the latest successful NIP-11 check only', async () => {
    const [relay] = [...(await getOrCreateRelayIds(test.db, [{ url: 'wss://limits.example/', network: 'clearnet' }], 'test')).values()];
    expect(await knownMaxLimit(test.db, relay as number)).toBeUndefined();
    const store = async (document: object, at: string) => {
      const text = JSON.stringify(document);
      const id = createHash('sha256').update(`nip11\n${text}`).digest('hex');
      await test.db.query(`INSERT INTO metadata (id, type, data) VALUES (decode($1, 'hex'), 'nip11', $2::jsonb) ON CONFLICT DO NOTHING`, [
        id,
        text,
      ]);
      await test.db.query(
        `INSERT INTO relay_check (relay_id, check_type, checked_at, ok, metadata_id) VALUES ($1, 'nip11', $2, true, decode($3, 'hex'))`,
        [relay, at, id],
      );
    };
    await store({ limitation: { max_limit: 5000 } }, '2026-01-01T00:00:00Z');
    await store({ limitation: { max_limit: 150 } }, '2026-01-02T00:00:00Z');
    expect(await knownMaxLimit(test.db, relay as number)).toBe(150);
    await store({ limitation: { max_limit: '150' } }, '2026-01-03T00:00:00Z');
    expect(await knownMaxLimit(test.db, relay as number)).toBeUndefined();
  });

  it('relay_uptime gives availability over 24 h / 7 d / 30 d and the median open round trip', async () => {
    const [relay] = [...(await getOrCreateRelayIds(test.db, [{ url: 'wss://uptime.example/', network: 'clearnet' }], 'test')).values()];
    const hoursAgo = [1, 2, 30, 100, 500, 900];
    const outcomes = [true, false, true, true, false, true];
    for (const [index, hours] of hoursAgo.entries()) {
      await test.db.query(
        `INSERT INTO relay_check (relay_id, check_type, checked_at, ok, rtt_ms) VALUES ($1, 'open', now() - make_interval(hours => $2), $3, $4)`,
        [relay, hours, outcomes[index], outcomes[index] ? 10 * (index + 1) : null],
      );
    }
    const { rows } = await test.db.query<{
      availability_24h: string;
      availability_7d: string;
      availability_30d: string;
      median_rtt_open_7d_ms: number;
      checks_30d: number;
      last_ok: boolean;
    }>(`SELECT * FROM relay_uptime WHERE relay_id = $1`, [relay]);
    const row = rows[0];
    expect(Number(row?.availability_24h)).toBeCloseTo(0.5);
    expect(Number(row?.availability_7d)).toBeCloseTo(0.75);
    expect(Number(row?.availability_30d)).toBeCloseTo(3 / 5); // the 900 h old check is outside 30 d
    expect(row?.median_rtt_open_7d_ms).toBe(30); // ok rtts within 7 d: 10, 30, 40
    expect(row?.checks_30d).toBe(5);
    expect(row?.last_ok).toBe(true);
  });

  it('unique_events_stats and collectStats count events, pairs and relays', async () => {
    const ids = await getOrCreateRelayIds(
      test.db,
      [
        { url: 'wss://s1.example/', network: 'clearnet' },
        { url: 'wss://s2.example/', network: 'clearnet' },
      ],
      'test',
    );
    const events = [storageEvent(), storageEvent(), storageEvent()];
    await insertEventBatch(test.db, events, ids.get('wss://s1.example/') as number);
    await insertEventBatch(test.db, events.slice(0, 2), ids.get('wss://s2.example/') as number);
    const view = await test.db.query<{ unique_events: number; event_relay_pairs: number; distinct_authors: number }>(
      'SELECT * FROM unique_events_stats',
    );
    expect(view.rows[0]).toMatchObject({ unique_events: 3, event_relay_pairs: 5, distinct_authors: 3 });
    const stats = await collectStats(test.db);
    expect(stats.events).toBe(3);
    expect(stats.eventRelayPairs).toBe(5);
    expect(stats.metadata).toBe(4);
    expect(stats.relayChecks).toBe(13);
    expect(stats.relays.total).toBe(9);
    expect(stats.relays.byNetwork).toEqual({ clearnet: 8, tor: 1, i2p: 0, loki: 0 });
    expect(stats.relays.byState).toEqual({ candidate: 8, active: 1, retired: 0 });
  });
});

describe('database errors', () => {
  it('never carry the password of the connection URL', async () => {
    const config = {
      ...databaseSchema.parse({}),
      url: 'postgres://archiver:Sup3r-Secret-Pw@127.0.0.1:1/bigbrotr',
      connect_timeout_ms: 2_000,
    };
    const error = await openDatabase(config).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DatabaseError);
    const text = `${(error as Error).message}\n${(error as Error).stack}\n${JSON.stringify(error)}\n${JSON.stringify((error as Error).cause)}`;
    expect(text).not.toContain('Sup3r-Secret-Pw');
    expect((error as DatabaseError).isConnectionError).toBe(true);
  });

  it("tell the database's own trouble (disk full, cancelled, deadlock) from errors about the data", () => {
    for (const code of ['53100', '53200', '57014', '57P01', '40001', '40P01', '58030', '08006'])
      expect(new DatabaseError('x', { code }).isDatabaseFault, code).toBe(true);
    for (const code of ['22P02', '23505', '42601', '22021']) expect(new DatabaseError('x', { code }).isDatabaseFault, code).toBe(false);
  });

  it.runIf(testDatabaseKind === 'postgres')(
    'a connection killed by the server fails one query at most, and the pool recovers',
    async () => {
      const db = await openDatabase({ ...test.config, pool_size: 1 });
      try {
        const { rows } = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        const admin = new pg.Client({ connectionString: test.config.url });
        await admin.connect();
        await admin.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
        await admin.end();
        const outcome = await db.query('SELECT 1 AS one').then(
          () => 'ok',
          (error: unknown) => (error instanceof DatabaseError ? 'database-error' : 'other'),
        );
        expect(['ok', 'database-error']).toContain(outcome);
        const again = await db.query<{ one: number }>('SELECT 1 AS one');
        expect(again.rows[0]?.one).toBe(1);
      } finally {
        await db.close();
      }
    },
  );
});

describe('sync schedule', () => {
  it('visits relays never synchronised before relays owing a window, then the longest unvisited', async () => {
    const urls = ['wss://sched-owing.example/', 'wss://sched-new.example/', 'wss://sched-old.example/'];
    const ids = await getOrCreateRelayIds(
      test.db,
      urls.map((url) => ({ url, network: 'clearnet' as const })),
      'seed',
    );
    for (const id of ids.values()) await setRelayState(test.db, id, 'active');
    const owing = ids.get('wss://sched-owing.example/') as number;
    const old = ids.get('wss://sched-old.example/') as number;
    await recordPassOutcome(test.db, old, { complete: true, requests: 1, full: true, atMs: Date.now() });
    await recordPassOutcome(test.db, owing, { complete: false, requests: 1, full: true, atMs: Date.now() });
    await test.db.query(`UPDATE sync_cursor SET updated_at = now() - interval '1 hour' WHERE relay_id = $1`, [old]);
    // A window that can never be proven (a crowded second on a capped relay) is due again and again:
    // it must not keep a relay that was never synchronised waiting.
    await insertOwed(test.db, owing, { since: 100, until: 100, reason: 'crowded', attempts: 3 }, Date.now() - 1_000);
    const due = await dueRelays(test.db, {
      intervalSeconds: 60,
      limit: 10,
      service: 'sync',
      priorityUrls: [],
      priorityOnly: false,
      blacklist: [],
      whitelist: ['^wss://sched-'],
    });
    expect(due.map((relay) => relay.url)).toEqual(['wss://sched-new.example/', 'wss://sched-owing.example/', 'wss://sched-old.example/']);
  });
});
