/**
 * One relay pass (with retries) against the test relay on each database: both sync methods (NIP-77
 * negentropy and REQ pagination), late events, rate limits, NIP-42 AUTH and dropped connections.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loader.js';
import type { Config } from '../../src/config/schema.js';
import { readCursor } from '../../src/db/sync-cursors.js';
import { getOrCreateRelayIds } from '../../src/db/relays.js';
import type { NostrEvent } from '../../src/nostr/event.js';
import { generateSecretKey } from '../../src/nostr/sign.js';
import { silentLogger } from '../../src/observability/logger.js';
import { syncRelayWithRetries } from '../../src/services/sync/pass-runner.js';
import { RelayRefusedError } from '../../src/relay/errors.js';
import { RelayNetworkError } from '../../src/relay/errors.js';
import { createVerifyPool, type VerifyPool } from '../../src/verify/pool.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { generateEvents } from '../support/events.js';
import { startTestRelay, type TestRelay } from '../support/relay/server.js';
import type { TestRelayOptions } from '../support/relay/options.js';

const base = 1_700_000_000;
const now = base + 10_000;
let pool: VerifyPool;
let corpus: NostrEvent[];
const relays: TestRelay[] = [];
const databases: TestDatabase[] = [];

beforeAll(async () => {
  pool = await createVerifyPool({ workers: 1, batchSize: 200 });
  corpus = [
    ...generateEvents({ count: 600, authors: 6, kinds: [1, 7], createdAt: [base, base + 5_000], seed: 'pass-spread' }),
    // 400 events in one second from authors seen nowhere else: REQ pagination splits by kind and author.
    ...generateEvents({ count: 400, authors: 40, kinds: [1, 7], createdAt: base + 2_500, seed: 'pass-crowd' }),
  ];
});
afterAll(async () => {
  await pool?.close();
  await Promise.all(relays.map((relay) => relay.close()));
  for (const database of databases) await database.dispose();
});

function configWith(overrides: Record<string, unknown> = {}): Config {
  return loadConfig({
    env: {},
    overrides: {
      'relay.connect_timeout_ms': 2_000,
      'relay.idle_timeout_ms': 2_000,
      'sync.retry_initial_delay_ms': 50,
      'sync.retry_max_delay_ms': 400,
      'sync.rate_limit_delay_ms': 200,
      'sync.negentropy_timeout_ms': 3_000,
      ...overrides,
    },
  }).config;
}

async function setup(relayOptions: Partial<TestRelayOptions>, events = corpus) {
  const relay = await startTestRelay({ keepAllVersions: true, ...relayOptions });
  relays.push(relay);
  relay.addEvents(events);
  const database = await createTestDatabase();
  databases.push(database);
  const ids = await getOrCreateRelayIds(database.db, [{ url: relay.url, network: 'clearnet' }], 'test');
  return { relay, db: database.db, target: { id: ids.get(relay.url) as number, url: relay.url } };
}

async function archivedIds(db: TestDatabase['db']): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>("SELECT encode(id, 'hex') AS id FROM event ORDER BY 1");
  return rows.map((row) => row.id);
}

const corpusIds = () => corpus.map((event) => event.id).sort();

describe('relay pass', () => {
  it('with event retention, never fetches events older than its cutoff (maintenance would only drop them again)', async () => {
    const { db, target } = await setup({ maxLimit: 100, defaultLimit: 100 });
    // The pass runs at base + 1 day + 3,000 s with a retention of 1 day: events before base + 3,000 are out.
    const pass = await syncRelayWithRetries({
      db,
      relay: target,
      config: configWith({ 'maintenance.event_retention_days': 1 }),
      pool,
      logger: silentLogger(),
      clock: () => (base + 86_400 + 3_000) * 1000,
    });
    expect(pass.report.complete).toBe(true);
    const expected = corpus
      .filter((event) => event.created_at >= base + 3_000)
      .map((event) => event.id)
      .sort();
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(corpus.length);
    expect(await archivedIds(db)).toEqual(expected);
  });

  it('negentropy: a relay speaking NIP-77 is reconciled, complete even in a crowded second, and a second pass fetches nothing', async () => {
    const { relay, db, target } = await setup({ maxLimit: 100, defaultLimit: 100 });
    const config = configWith();
    const first = await syncRelayWithRetries({ db, relay: target, config, pool, logger: silentLogger(), clock: () => now * 1000 });
    expect(first.method).toBe('negentropy');
    expect(first.report.complete).toBe(true);
    expect(first.stored).toBe(corpus.length);
    expect(first.negentropy?.need).toBe(corpus.length);
    expect(await archivedIds(db)).toEqual(corpusIds());
    expect((await readCursor(db, target.id)).negentropy).toBe('supported');

    // A late event, backdated into the archived past: the very next reconciliation finds exactly it
    // (NIP-77 relays are reconciled over their whole range on every pass).
    const [late] = generateEvents({ count: 1, createdAt: base + 100, seed: 'pass-late' });
    relay.addEvents([late as NostrEvent]);
    const second = await syncRelayWithRetries({ db, relay: target, config, pool, logger: silentLogger(), clock: () => (now + 5) * 1000 });
    expect(second.method).toBe('negentropy');
    expect(second.full).toBe(true);
    expect(second.stored).toBe(1);
    expect(second.negentropy?.need).toBe(1);
    expect(second.report.delivered).toBe(1);
  });

  it('negentropy: needed ids are fetched two requests at a time, and one at a time from a relay that allows one subscription', async () => {
    const { relay, db, target } = await setup({ maxLimit: 100, defaultLimit: 100 });
    const pass = await syncRelayWithRetries({
      db,
      relay: target,
      config: configWith(),
      pool,
      logger: silentLogger(),
      clock: () => now * 1000,
    });
    expect(pass.report.complete).toBe(true);
    expect(relay.counters.peakSubscriptions).toBe(2);
    expect(await archivedIds(db)).toEqual(corpusIds());

    // A relay that refuses a second open subscription (CLOSED "error: too many subscriptions").
    const single = await setup({ maxLimit: 100, defaultLimit: 100, maxSubscriptions: 1 });
    const alone = await syncRelayWithRetries({
      db: single.db,
      relay: single.target,
      config: configWith(),
      pool,
      logger: silentLogger(),
      clock: () => now * 1000,
    });
    expect(alone.method).toBe('negentropy');
    expect(alone.report.complete).toBe(true);
    expect(single.relay.counters.peakSubscriptions).toBe(1);
    // The refusal of our second subscription is not the relay refusing a filter: nothing learned, nothing reported.
    expect(alone.report.refusals).toBe(0);
    expect(alone.report.problems).toEqual({});
    expect(await archivedIds(single.db)).toEqual(corpusIds());
  });

  it('REQ pagination: a relay without NIP-77 is paged (crowded second split), remembered as such, and late events are caught by the full pass', async () => {
    const { relay, db, target } = await setup({ maxLimit: 100, defaultLimit: 100, negentropy: false });
    const first = await syncRelayWithRetries({
      db,
      relay: target,
      config: configWith(),
      pool,
      logger: silentLogger(),
      clock: () => now * 1000,
    });
    expect(first.method).toBe('req');
    expect(first.report.complete).toBe(true);
    expect(first.report.crowdedSeconds).toBeGreaterThanOrEqual(1);
    expect(await archivedIds(db)).toEqual(corpusIds());
    expect((await readCursor(db, target.id)).negentropy).toBe('unsupported');

    const [late] = generateEvents({ count: 1, createdAt: base + 100, seed: 'pass-late-req' });
    relay.addEvents([late as NostrEvent]);
    // A regular visit re-scans only the trailing window: the backdated event is outside it.
    const regular = await syncRelayWithRetries({
      db,
      relay: target,
      config: configWith(),
      pool,
      logger: silentLogger(),
      clock: () => (now + 60) * 1000,
    });
    expect(regular.full).toBe(false);
    expect(regular.stored).toBe(0);
    // The scheduled full pass finds it (a week later by the injected clock).
    const full = await syncRelayWithRetries({
      db,
      relay: target,
      config: configWith(),
      pool,
      logger: silentLogger(),
      clock: () => (now + 7 * 86_400 + 120) * 1000,
    });
    expect(full.full).toBe(true);
    expect(full.method).toBe('req');
    expect(full.stored).toBe(1);
  });

  it('a negentropy reply larger than the payload limit is no reason to give up NIP-77: the window is split in time, complete', async () => {
    const { db, target } = await setup({ maxLimit: 100, defaultLimit: 100 });
    // 1,000 ids in one unlimited NEG-MSG are ~64 kB of hex: more than this client accepts.
    const config = configWith({ 'relay.max_payload_bytes': 32_768 });
    const result = await syncRelayWithRetries({ db, relay: target, config, pool, logger: silentLogger(), clock: () => now * 1000 });
    expect(result.attempts).toBe(1);
    expect(result.method).toBe('negentropy');
    expect(result.negentropy?.splits).toBeGreaterThan(0);
    expect(result.stored).toBe(corpus.length);
    expect(result.report.complete).toBe(true);
    expect((await readCursor(db, target.id)).negentropy).toBe('supported');
  });

  it('slows down on rate-limited: and still archives everything', async () => {
    const { db, target } = await setup(
      { maxLimit: 50, defaultLimit: 50, negentropy: false, misbehaviour: { rateLimitPerSecond: 4 } },
      corpus.slice(0, 600),
    );
    const result = await syncRelayWithRetries({
      db,
      relay: target,
      config: configWith(),
      pool,
      logger: silentLogger(),
      clock: () => now * 1000,
    });
    expect(result.rateLimited).toBeGreaterThan(0);
    expect(result.report.complete).toBe(true);
    expect(result.stored).toBe(600);
  });

  it('answers NIP-42 AUTH with the configured key; without a key the refusal is reported, not retried', async () => {
    const { relay, db, target } = await setup({ maxLimit: 100, authRequired: true }, corpus.slice(0, 300));
    await expect(
      syncRelayWithRetries({
        db,
        relay: target,
        config: configWith({ 'sync.negentropy': 'off' }),
        pool,
        logger: silentLogger(),
        clock: () => now * 1000,
      }),
    ).rejects.toBeInstanceOf(RelayRefusedError);
    expect(relay.counters.connections).toBe(1);

    const withKey = configWith({ 'identity.secret_key': generateSecretKey() });
    const result = await syncRelayWithRetries({
      db,
      relay: target,
      config: withKey,
      pool,
      logger: silentLogger(),
      clock: () => now * 1000,
    });
    expect(result.authenticated).toBe(true);
    expect(result.stored).toBe(300);
    expect(relay.counters.auths).toBeGreaterThanOrEqual(1);
  });

  it('a relay dropping the connection mid-stream is retried with backoff, then benched for the caller; the next pass completes, nothing stored twice', async () => {
    const { relay, db, target } = await setup(
      { maxLimit: 100, defaultLimit: 100, negentropy: false, misbehaviour: { dropAfterEvents: 60 } },
      corpus.slice(0, 600),
    );
    const config = configWith({ 'sync.retry_attempts': 2 });
    await expect(
      syncRelayWithRetries({ db, relay: target, config, pool, logger: silentLogger(), clock: () => now * 1000 }),
    ).rejects.toBeInstanceOf(RelayNetworkError);
    // One attempt and two retries, each on a new connection.
    expect(relay.counters.connections).toBe(3);
    relay.setBehaviour({ dropAfterEvents: -1 });
    const next = await syncRelayWithRetries({ db, relay: target, config, pool, logger: silentLogger(), clock: () => now * 1000 });
    expect(next.report.complete).toBe(true);
    expect(next.attempts).toBe(1);
    expect(await archivedIds(db)).toEqual(
      corpus
        .slice(0, 600)
        .map((event) => event.id)
        .sort(),
    );
  });
});
