/**
 * The relay zoo: one synchronizer pass against the test relay behaving as each public relay
 * implementation behaves (src/test-relay/profiles.ts, docs/relay-behaviours.md), every one holding a
 * crowded second larger than its page cap. Archived must equal served, by id, on each database; and
 * the pass must say complete only when it is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loader.js';
import type { Config } from '../../src/config/schema.js';
import { getOrCreateRelayIds } from '../../src/db/relays.js';
import { readRelayLimits } from '../../src/db/relay-limits.js';
import { relayDetail } from '../../src/db/relay-queries.js';
import { collectStats } from '../../src/db/stats.js';
import type { NostrEvent } from '../../src/nostr/event.js';
import { silentLogger } from '../../src/observability/logger.js';
import { syncRelayWithRetries } from '../../src/services/sync/pass-runner.js';
import { RELAY_PROFILES } from '../../src/test-relay/profiles.js';
import { createVerifyPool, type VerifyPool } from '../../src/verify/pool.js';
import { createTestDatabase, testDatabaseKind, type TestDatabase } from '../support/database.js';
import { generateEvents } from '../support/events.js';
import { startTestRelay, type TestRelay } from '../support/relay/server.js';

const base = 1_700_000_000;
const now = base + 10_000;
const crowdedSecond = base + 2_500;
// 32 kinds in the crowded second (kind 4 among them, which strfry keeps for authenticated readers).
const CROWD_KINDS = [
  0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 40, 41, 42, 43, 44, 1063, 1111, 1984, 9734, 9735, 10000, 10002, 30000, 30023,
  31990,
];
let pool: VerifyPool;
let corpus: NostrEvent[];
const relays: TestRelay[] = [];
const databases: TestDatabase[] = [];
const table: string[] = [];

beforeAll(async () => {
  pool = await createVerifyPool({ workers: 1, batchSize: 250 });
  corpus = [
    ...generateEvents({
      count: 1_200,
      authors: 12,
      kinds: [1, 4, 7, 30023],
      createdAt: [base, base + 5_000],
      seed: 'zoo-spread',
      tags: [['d', 'x']],
    }),
    // 1,600 events in one second: more than any profile's page (khatru's 100 up to our 500), 50 per kind.
    ...generateEvents({ count: 1_600, authors: 40, kinds: CROWD_KINDS, createdAt: crowdedSecond, seed: 'zoo-crowd', tags: [['d', 'y']] }),
  ];
});

afterAll(async () => {
  await pool?.close();
  await Promise.all(relays.map((relay) => relay.close()));
  for (const database of databases) await database.dispose();
  if (table.length > 0) console.log(`relay profiles on ${testDatabaseKind}:\n${table.join('\n')}`);
});

function configWith(): Config {
  return loadConfig({
    env: {},
    overrides: {
      'relay.connect_timeout_ms': 2_000,
      'relay.idle_timeout_ms': 3_000,
      'sync.count_timeout_ms': 1_000,
      'sync.negentropy_timeout_ms': 3_000,
      'sync.rate_limit_delay_ms': 200,
      'sync.retry_max_delay_ms': 1_000,
    },
  }).config;
}

describe('relay profiles: archived == served, by id', () => {
  for (const profile of RELAY_PROFILES) {
    it(`${profile.name} (${profile.source})`, async () => {
      const relay = await startTestRelay({ keepAllVersions: true, ...profile.options });
      relays.push(relay);
      relay.addEvents(corpus);
      const database = await createTestDatabase();
      databases.push(database);
      const ids = await getOrCreateRelayIds(database.db, [{ url: relay.url, network: 'clearnet' }], 'test');
      const target = { id: ids.get(relay.url) as number, url: relay.url };
      const withheld = new Set(profile.options.withheldKinds ?? []);
      const served = relay.store
        .all()
        .filter((event) => !withheld.has(event.kind))
        .map((event) => event.id)
        .sort();
      expect(relay.store.all().some((event) => event.created_at === crowdedSecond)).toBe(true);

      const started = performance.now();
      const result = await syncRelayWithRetries({
        db: database.db,
        relay: target,
        config: configWith(),
        pool,
        logger: silentLogger(),
        clock: () => now * 1000,
      });
      const seconds = (performance.now() - started) / 1000;
      const { rows } = await database.db.query<{ id: string }>("SELECT encode(id, 'hex') AS id FROM event ORDER BY 1");
      expect(rows.map((row) => row.id)).toEqual(served);
      expect(result.report).toMatchObject({ complete: true, owed: { windows: 0 } });
      expect(result.report.crowdedSeconds + (result.method === 'negentropy' ? 1 : 0)).toBeGreaterThan(0);
      // What the relay's refusals taught is kept for every service.
      const learned = await readRelayLimits(database.db, target.id);
      if (result.report.refusals > 0) expect(learned?.learned).not.toEqual({});
      table.push(
        `  ${profile.name.padEnd(20)} ${result.method.padEnd(10)} ${String(result.report.requests).padStart(5)} requests ${seconds.toFixed(1).padStart(5)} s  refusals ${result.report.refusals}  limits ${JSON.stringify(result.limits)}`,
      );
    });
  }

  it('a second pass right after asks little and stays complete (limits come from the database)', async () => {
    const profile = RELAY_PROFILES.find((candidate) => candidate.name === 'nostr-relay-nestjs');
    const relay = await startTestRelay({ keepAllVersions: true, ...profile?.options });
    relays.push(relay);
    relay.addEvents(corpus);
    const database = await createTestDatabase();
    databases.push(database);
    const ids = await getOrCreateRelayIds(database.db, [{ url: relay.url, network: 'clearnet' }], 'test');
    const target = { id: ids.get(relay.url) as number, url: relay.url };
    const first = await syncRelayWithRetries({
      db: database.db,
      relay: target,
      config: configWith(),
      pool,
      logger: silentLogger(),
      clock: () => now * 1000,
    });
    expect(first.report.refusals).toBe(1);
    expect(first.limits.maxKinds).toBe(20);
    const second = await syncRelayWithRetries({
      db: database.db,
      relay: target,
      config: configWith(),
      pool,
      logger: silentLogger(),
      clock: () => (now + 600) * 1000,
    });
    expect(second.report).toMatchObject({ complete: true, refusals: 0 });
    expect(second.stored).toBe(0);
    expect(second.report.requests).toBeLessThan(10);
    // Shown to operators: bigbrotr stats --json and the API's relay detail.
    const stats = await collectStats(database.db);
    expect(stats.sync.learnedLimits).toEqual([expect.objectContaining({ url: relay.url, maxKinds: 20, count: 'unanswered' })]);
    expect(stats.sync).toMatchObject({ relaysComplete: 1, relaysIncomplete: 0, owedWindows: 0 });
    const detail = await relayDetail(database.db, relay.url);
    expect(detail?.limits).toMatchObject({ max_kinds: 20, learned: { max_kinds: { message: expect.stringContaining('20 kinds') } } });
    expect(detail?.sync).toMatchObject({ last_pass_complete: true, owed_windows: 0 });
  });
});
