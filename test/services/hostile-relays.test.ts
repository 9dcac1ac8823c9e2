/**
 * Misbehaving relays, each synchronised beside a well-behaved one in the same process (as `sync
 * --once` with two relays runs them): the good relay is archived in full whatever the other does,
 * and the misbehaving relay's pass never says `complete` without proof.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loader.js';
import type { Config } from '../../src/config/schema.js';
import { getOrCreateRelayIds } from '../../src/db/relays.js';
import { owedSummary } from '../../src/db/sync-gaps.js';
import { withheldCount } from '../../src/db/relay-withheld.js';
import { readCursor } from '../../src/db/sync-cursors.js';
import { relaysForDirectScan } from '../../src/db/finder.js';
import { setRelayState } from '../../src/db/relays.js';
import { findFromRelays } from '../../src/services/finder/finder.js';
import type { NostrEvent } from '../../src/nostr/event.js';
import { silentLogger } from '../../src/observability/logger.js';
import { RelayUnansweredError } from '../../src/relay/errors.js';
import { probeRelay } from '../../src/relay/probe.js';
import { checkWebSocket } from '../../src/services/monitor/checks/websocket.js';
import { createByteBudget } from '../../src/services/sync/byte-budget.js';
import { syncRelayWithRetries } from '../../src/services/sync/pass-runner.js';
import type { RelaySyncResult } from '../../src/services/sync/relay-sync.js';
import type { Misbehaviour, TestRelayOptions } from '../../src/test-relay/options.js';
import { relaySchema } from '../../src/config/schema.js';
import { createVerifyPool, type VerifyPool } from '../../src/verify/pool.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { generateEvents } from '../support/events.js';
import { startTestRelay, type TestRelay } from '../support/relay/server.js';

const base = 1_700_000_000;
const now = base + 10_000;
let pool: VerifyPool;
let good: NostrEvent[];
let hostile: NostrEvent[];
const relays: TestRelay[] = [];
const databases: TestDatabase[] = [];

beforeAll(async () => {
  pool = await createVerifyPool({ workers: 1, batchSize: 250 });
  good = [
    ...generateEvents({ count: 500, authors: 8, kinds: [1, 7], createdAt: [base, base + 4_000], seed: 'good-spread' }),
    ...generateEvents({ count: 600, authors: 30, kinds: [1, 6, 7, 16], createdAt: base + 2_000, seed: 'good-crowd' }),
  ];
  hostile = generateEvents({ count: 900, authors: 10, kinds: [1, 7], createdAt: [base, base + 4_000], seed: 'hostile' });
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
      'relay.idle_timeout_ms': 1_000,
      'relay.request_timeout_ms': 4_000,
      'sync.count_timeout_ms': 500,
      'sync.negentropy_timeout_ms': 1_000,
      'sync.retry_attempts': 1,
      'sync.retry_initial_delay_ms': 50,
      'sync.retry_max_delay_ms': 200,
      'sync.pass_time_budget_seconds': 6,
      ...overrides,
    },
  }).config;
}

async function relay(options: Partial<TestRelayOptions>, events: NostrEvent[]): Promise<TestRelay> {
  const started = await startTestRelay({ keepAllVersions: true, ...options });
  relays.push(started);
  started.addEvents(events);
  return started;
}

interface SideBySide {
  db: TestDatabase['db'];
  goodRelay: TestRelay;
  badRelay: TestRelay;
  badId: number;
  goodResult: RelaySyncResult;
  bad: PromiseSettledResult<RelaySyncResult>;
}

/** Both relays synchronised at once in one process, with one verification pool and one byte budget. */
async function sideBySide(
  misbehaviour: Partial<Misbehaviour>,
  options: Partial<TestRelayOptions> = {},
  config = configWith(),
  events = hostile,
): Promise<SideBySide> {
  const goodRelay = await relay({ maxLimit: 200, negentropy: false }, good);
  const badRelay = await relay({ maxLimit: 200, negentropy: false, ...options, misbehaviour }, events);
  const database = await createTestDatabase();
  databases.push(database);
  const ids = await getOrCreateRelayIds(
    database.db,
    [goodRelay.url, badRelay.url].map((url) => ({ url, network: 'clearnet' as const })),
    'test',
  );
  const budget = createByteBudget(config.sync.max_bytes_in_flight);
  // A clock that runs from `now`: the passes' time budgets are real.
  const started = Date.now();
  const clock = () => now * 1000 + (Date.now() - started);
  const pass = (url: string) =>
    syncRelayWithRetries({
      db: database.db,
      relay: { id: ids.get(url) as number, url },
      config,
      pool,
      budget,
      logger: silentLogger(),
      clock,
    });
  const [goodSettled, bad] = await Promise.allSettled([pass(goodRelay.url), pass(badRelay.url)]);
  if (goodSettled.status === 'rejected') throw goodSettled.reason;
  const goodResult = goodSettled.value;
  // The good relay, archived in full and proven so.
  const { rows } = await database.db.query<{ id: string }>(
    "SELECT encode(e.id, 'hex') AS id FROM event e JOIN event_relay er ON er.event_id = e.id WHERE er.relay_id = $1 ORDER BY 1",
    [ids.get(goodRelay.url)],
  );
  expect(rows.map((row) => row.id)).toEqual(good.map((event) => event.id).sort());
  expect(goodResult.report.complete).toBe(true);
  return { db: database.db, goodRelay, badRelay, badId: ids.get(badRelay.url) as number, goodResult, bad };
}

async function archivedFrom(db: TestDatabase['db'], relayId: number): Promise<number> {
  const { rows } = await db.query<{ count: number | string }>('SELECT count(*) AS count FROM event_relay WHERE relay_id = $1', [relayId]);
  return Number(rows[0]?.count);
}

describe('a misbehaving relay beside a good one', () => {
  it('a NOTICE holding an array nested 5,000 deep before every answer is ignored as garbage: that relay is archived in full too', async () => {
    const { bad, db, badId, badRelay } = await sideBySide({ deepNestingNotice: 5_000 });
    expect(bad.status).toBe('fulfilled');
    expect(await archivedFrom(db, badId)).toBe(badRelay.store.size);
  });

  it("the validator's probe and the monitor's read check survive it too, and see the answer that follows it", async () => {
    const badRelay = await relay({ misbehaviour: { deepNestingNotice: 5_000 } }, []);
    const config = { ...relaySchema.parse({}), connect_timeout_ms: 2_000 };
    const probe = await probeRelay(badRelay.url, config, 2_000);
    expect(probe).toMatchObject({ ok: true });
    expect(probe).not.toMatchObject({ answer: 'notice' });
    const checked = await checkWebSocket({
      url: badRelay.url,
      relay: config,
      userAgent: 'test',
      openTimeoutMs: 2_000,
      readTimeoutMs: 2_000,
      writeTimeoutMs: 2_000,
    });
    expect(checked.read).toMatchObject({ ok: true });
    expect(checked.read).not.toMatchObject({ detail: { refused: true } });
  });

  it('a relay that ignores since/until: what it serves is kept, the rest owed, never complete', async () => {
    const { bad, db, badId } = await sideBySide({ ignoreSinceUntil: true });
    expect(bad.status).toBe('fulfilled');
    const result = (bad as PromiseFulfilledResult<RelaySyncResult>).value;
    expect(result.report.complete).toBe(false);
    expect(result.report.problems['ignores-time']).toBeGreaterThan(0);
    expect(result.report.owed.windows).toBeGreaterThan(0);
    expect(await archivedFrom(db, badId)).toBe(200);
  });

  it('a relay that accepts the connection and never answers a REQ: an error naming the silence, nothing claimed', async () => {
    const { bad, db, badId } = await sideBySide({ neverAnswerReq: true });
    expect(bad.status).toBe('rejected');
    expect((bad as PromiseRejectedResult).reason).toBeInstanceOf(RelayUnansweredError);
    expect(String((bad as PromiseRejectedResult).reason)).toMatch(/no answer within 1000 ms/);
    expect(await archivedFrom(db, badId)).toBe(0);
    // The whole window stays owed for the next pass.
    expect((await owedSummary(db, badId)).windows).toBe(1);
  });

  it('a relay that sends each message one byte per frame, slowly: keeps what came, stops at its budget, never complete', async () => {
    const { bad, db, badId } = await sideBySide({ byteAtATimeMs: 1 });
    const outcome = bad.status === 'fulfilled' ? bad.value.report : undefined;
    if (outcome) expect(outcome.complete).toBe(false);
    else expect((bad as PromiseRejectedResult).reason).toBeInstanceOf(RelayUnansweredError);
    expect((await owedSummary(db, badId)).windows).toBeGreaterThan(0);
  });

  it('a relay that answers one page, then stops answering: the page is kept, the rest stays owed', async () => {
    const { bad, db, badId } = await sideBySide({ answerOnlyFirstReq: true });
    expect(bad.status).toBe('rejected');
    expect((bad as PromiseRejectedResult).reason).toBeInstanceOf(RelayUnansweredError);
    const kept = await archivedFrom(db, badId);
    expect(kept).toBeGreaterThanOrEqual(200);
    expect(kept).toBeLessThan(hostile.length);
    const owed = await owedSummary(db, badId);
    expect(owed.windows).toBe(1);
    // Everything not archived lies inside the owed window.
    const { rows } = await db.query<{ since: string; until: string }>('SELECT since, until FROM sync_gap WHERE relay_id = $1', [badId]);
    const [window] = rows;
    const archived = new Set(
      (await db.query<{ id: string }>("SELECT encode(event_id, 'hex') AS id FROM event_relay WHERE relay_id = $1", [badId])).rows.map(
        (row) => row.id,
      ),
    );
    for (const event of hostile.filter((candidate) => !archived.has(candidate.id))) {
      expect(event.created_at).toBeGreaterThanOrEqual(Number(window?.since));
      expect(event.created_at).toBeLessThanOrEqual(Number(window?.until));
    }
  });

  it('a relay whose COUNT is wrong: COUNT is tested against REQ, found wrong, and never used as proof', async () => {
    // One kind from 300 authors in one second behind a cap of 50: only COUNT could prove it complete.
    const crowd = generateEvents({ count: 300, authors: 300, kinds: [1], createdAt: base + 1_000, seed: 'wrong-count' });
    const spread = generateEvents({ count: 200, authors: 4, kinds: [7], createdAt: [base, base + 3_000], seed: 'wrong-count-spread' });
    const { bad } = await sideBySide({ countOffset: -40 }, { maxLimit: 50 }, configWith(), [...spread, ...crowd]);
    const result = (bad as PromiseFulfilledResult<RelaySyncResult>).value;
    expect(result.limits.count).toBe('disagrees');
    expect(result.report.complete).toBe(false);
    expect(result.report.problems.crowded).toBeGreaterThan(0);
  });

  it('a relay answering NEG-OPEN with NEG-ERR "unsupported": paged with REQ instead, complete', async () => {
    const { bad, db, badId } = await sideBySide({ negentropyRefusal: 'unsupported: negentropy is disabled here' }, { negentropy: true });
    const result = (bad as PromiseFulfilledResult<RelaySyncResult>).value;
    expect(result.method).toBe('req');
    expect(result.report.complete).toBe(true);
    expect(await archivedFrom(db, badId)).toBe(hostile.length);
    expect((await readCursor(db, badId)).negentropy).toBe('unsupported');
  });

  it('a relay sending events slowly but steadily: the pass stops at its time budget with what came, and says so', async () => {
    const { bad, db, badId } = await sideBySide({ delayMs: 400 });
    expect(bad.status).toBe('fulfilled');
    const result = (bad as PromiseFulfilledResult<RelaySyncResult>).value;
    expect(result.report.complete).toBe(false);
    expect(result.report.problems.stalled ?? result.report.problems['time-budget']).toBeGreaterThan(0);
    expect(await archivedFrom(db, badId)).toBeGreaterThan(0);
    expect((await owedSummary(db, badId)).windows).toBeGreaterThan(0);
  });
});

describe('NIP-77 failures are not NIP-77 absence', () => {
  async function setup(options: Partial<TestRelayOptions>, events: NostrEvent[]) {
    const target = await relay(options, events);
    const database = await createTestDatabase();
    databases.push(database);
    const ids = await getOrCreateRelayIds(database.db, [{ url: target.url, network: 'clearnet' }], 'test');
    const id = ids.get(target.url) as number;
    const pass = (clockSeconds: number, overrides: Record<string, unknown> = {}, window: { since?: number } = {}) =>
      syncRelayWithRetries({
        db: database.db,
        relay: { id, url: target.url },
        config: configWith({ 'sync.pass_time_budget_seconds': 60, ...overrides }),
        pool,
        logger: silentLogger(),
        clock: () => clockSeconds * 1000,
        ...window,
      });
    const archived = async () =>
      (
        await database.db.query<{ id: string }>("SELECT encode(event_id, 'hex') AS id FROM event_relay WHERE relay_id = $1 ORDER BY 1", [
          id,
        ])
      ).rows.map((row) => row.id);
    return { target, db: database.db, id, pass, archived };
  }

  it('a REQ pass that could not prove a crowded second owes it; the next pass fetches it, and what was added since', async () => {
    const crowd = generateEvents({ count: 300, authors: 300, kinds: [1], createdAt: base + 1_000, seed: 'owed-crowd' });
    const spread = generateEvents({ count: 200, authors: 4, kinds: [7], createdAt: [base, base + 3_000], seed: 'owed-spread' });
    const { target, pass, archived } = await setup({ maxLimit: 50, negentropy: false, count: 'closed' }, [...spread, ...crowd]);
    const first = await pass(now);
    expect(first.report.complete).toBe(false);
    expect(first.report.owed.windows).toBe(1);
    expect((await archived()).length).toBeLessThan(500);

    // The relay now serves larger pages; newer events arrived above the old window.
    target.setOptions({ maxLimit: 1_000, defaultLimit: 1_000 });
    const later = generateEvents({ count: 40, authors: 2, kinds: [1], createdAt: [now + 100, now + 200], seed: 'owed-later' });
    target.addEvents(later);
    const second = await pass(now + 3_600, {}, { since: 0 });
    expect(second.report.complete).toBe(true);
    expect(second.report.owed.windows).toBe(0);
    expect(await archived()).toEqual([...spread, ...crowd, ...later].map((event) => event.id).sort());
  });

  it("a second over the relay's NIP-77 record cap is fetched by REQ within the relay's limits", async () => {
    const crowd = generateEvents({
      count: 300,
      authors: 20,
      kinds: [1, 6, 7, 16, 1111, 9735],
      createdAt: base + 1_000,
      seed: 'neg-cap-crowd',
    });
    const spread = generateEvents({ count: 200, authors: 4, kinds: [7], createdAt: [base, base + 3_000], seed: 'neg-cap-spread' });
    const { pass, archived } = await setup({ maxLimit: 100, negentropyMaxRecords: 100, count: 'closed' }, [...spread, ...crowd]);
    const result = await pass(now);
    expect(result.method).toBe('negentropy');
    expect(result.negentropy?.reqFallbacks).toBeGreaterThan(0);
    expect(result.report.complete).toBe(true);
    expect(await archived()).toEqual([...spread, ...crowd].map((event) => event.id).sort());
  });

  it('ids listed in NIP-77 but withheld from REQ are remembered, not chased: bounded requests, none the next pass', async () => {
    const dms = generateEvents({ count: 200, authors: 5, kinds: [4], createdAt: [base, base + 3_000], seed: 'withheld-dms' });
    const notes = generateEvents({ count: 1_800, authors: 9, kinds: [1], createdAt: [base, base + 3_000], seed: 'withheld-notes' });
    const { pass, archived, db, id } = await setup({ maxLimit: 500, withheldKinds: [4], withheldInNegentropy: true }, [...dms, ...notes]);
    const first = await pass(now);
    expect(first.method).toBe('negentropy');
    expect(first.report.complete).toBe(true);
    expect(first.report.withheld).toBe(200);
    // About 2,000 / 500 id batches, one retry round for the shortfall, a few sessions: not 200 re-asks.
    expect(first.report.requests).toBeLessThan(20);
    expect(await withheldCount(db, id)).toBe(200);
    expect(await archived()).toEqual(notes.map((event) => event.id).sort());

    const second = await pass(now + 600);
    expect(second.report.complete).toBe(true);
    expect(second.report.withheld).toBe(200);
    expect(second.negentropy?.need).toBe(0);
    expect(second.report.requests).toBeLessThan(5);
  });
});

describe('the same discipline for the other clients', () => {
  it('NIP-77 id fetches stay within the ids limit a relay teaches', async () => {
    const events = generateEvents({ count: 600, authors: 6, kinds: [1], createdAt: [base, base + 3_000], seed: 'ids-limit' });
    const target = await relay(
      {
        maxLimit: 500,
        filterLimits: { kinds: 0, authors: 0, ids: 100, filters: 0 },
        filterRefusal: 'notice',
        refusalTexts: { kinds: '', authors: '', ids: 'invalid: must be less than or equal to {max} ids at "[0].ids"', filters: '' },
      },
      events,
    );
    const database = await createTestDatabase();
    databases.push(database);
    const ids = await getOrCreateRelayIds(database.db, [{ url: target.url, network: 'clearnet' }], 'test');
    const result = await syncRelayWithRetries({
      db: database.db,
      relay: { id: ids.get(target.url) as number, url: target.url },
      config: configWith({ 'sync.pass_time_budget_seconds': 60 }),
      pool,
      logger: silentLogger(),
      clock: () => now * 1000,
    });
    expect(result.method).toBe('negentropy');
    expect(result.report.complete).toBe(true);
    expect(result.stored).toBe(600);
    expect(result.limits.maxIds).toBe(100);
    expect(target.counters.reqs.filter((req) => (req.filters[0]?.ids?.length ?? 0) > 100).length).toBe(1);
  });

  it("the finder's direct scan of a relay that never answers keeps its position and reports the relay", async () => {
    const silent = await relay({ misbehaviour: { neverAnswerReq: true } }, hostile.slice(0, 10));
    const database = await createTestDatabase();
    databases.push(database);
    const ids = await getOrCreateRelayIds(database.db, [{ url: silent.url, network: 'clearnet' }], 'seed');
    await setRelayState(database.db, ids.get(silent.url) as number, 'active');
    const summary = await findFromRelays({ db: database.db, config: configWith({ 'sync.negentropy': 'off' }), logger: silentLogger() });
    expect(summary.errors).toEqual([{ source: silent.url, error: expect.stringMatching(/no answer within 1000 ms/) }]);
    expect(summary.relaysAsked).toBe(0);
    const [scanned] = await relaysForDirectScan(database.db, 10);
    expect(scanned?.scannedUntil ?? 0).toBe(0);
  });
});
