/**
 * REQ pagination against real test relays: complete under silent caps and crowded seconds, honest
 * (never "complete") when a relay refuses, stalls, ignores since/until or cannot be split within its
 * limits, and within the filter limits it learns from refusals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relaySchema } from '../../src/config/schema.js';
import type { NostrEvent } from '../../src/nostr/event.js';
import { RelayRefusedError } from '../../src/relay/errors.js';
import { RelayFilterLimits, type FilterLimitValues } from '../../src/relay/filter-limits.js';
import { paginateWindow, type OwedWindow, type PaginateOptions, type PaginateReport } from '../../src/relay/paginate.js';
import { RelaySession } from '../../src/relay/session.js';
import { silentLogger } from '../../src/observability/logger.js';
import { DEFAULT_EVENT_LIMITS } from '../../src/nostr/event-shape.js';
import { startTestRelay, type TestRelay } from '../support/relay/server.js';
import type { TestRelayOptions } from '../support/relay/options.js';
import { generateEvents } from '../support/events.js';

const clientConfig = { ...relaySchema.parse({}), connect_timeout_ms: 2_000, request_timeout_ms: 10_000, idle_timeout_ms: 1_000 };
const base = 1_700_000_000;
let corpus: NostrEvent[];
const relays: TestRelay[] = [];

beforeAll(() => {
  corpus = [
    // Spread over time, several kinds and authors.
    ...generateEvents({ count: 700, authors: 7, kinds: [1, 7, 30023], createdAt: [base, base + 3_000], seed: 'spread' }),
    // 1,200 events in one second: more than any cap below, 200 per kind, ~5 per (kind, author).
    ...generateEvents({ count: 1_200, authors: 41, kinds: [1, 6, 7, 16, 1111, 9735], createdAt: base + 1_500, seed: 'crowd' }),
  ];
});
afterAll(async () => {
  await Promise.all(relays.map((relay) => relay.close()));
});

export async function openSession(url: string, relayConfig = clientConfig): Promise<RelaySession> {
  return RelaySession.open({
    url,
    config: relayConfig,
    guard: { minIntervalMs: 0, rateLimitRetries: 2, rateLimitDelayMs: 50, maxDelayMs: 200, authTimeoutMs: 1_000, logger: silentLogger() },
    eventLimits: DEFAULT_EVENT_LIMITS,
    maxPageBytes: 8 * 1024 * 1024,
    countTimeoutMs: 1_000,
    maxReconnects: 0,
  });
}

interface Archived {
  report: PaginateReport;
  ids: string[];
  owed: OwedWindow[];
  limits: RelayFilterLimits;
  relay: TestRelay;
}

async function archive(
  relayOptions: Partial<TestRelayOptions>,
  options: Partial<PaginateOptions> = {},
  limitValues: Partial<FilterLimitValues> = {},
  events = corpus,
): Promise<Archived> {
  const relay = await startTestRelay({ keepAllVersions: true, ...relayOptions });
  relays.push(relay);
  relay.addEvents(events);
  const session = await openSession(relay.url);
  const ids: string[] = [];
  const owed: OwedWindow[] = [];
  const limits = new RelayFilterLimits(limitValues);
  try {
    const report = await paginateWindow(
      session.fetchPage,
      {
        since: base,
        until: base + 3_000,
        limits,
        maxRequests: 100_000,
        countEvents: session.count,
        onOwed: async (window) => void owed.push(window),
        ...options,
      },
      async (events) => {
        ids.push(...events.map((event) => event.id));
      },
    );
    return { report, ids, owed, limits, relay };
  } finally {
    session.close();
  }
}

function expectEveryEventOnce(ids: string[], expected = corpus): void {
  expect(ids.length).toBe(expected.length);
  expect(new Set(ids)).toEqual(new Set(expected.map((event) => event.id)));
}

describe('paginateWindow: completeness under limit caps', () => {
  for (const cap of [500, 100]) {
    it(`gets every event exactly once when the relay silently caps limit at ${cap}`, async () => {
      const { report, ids, owed } = await archive({ maxLimit: cap, defaultLimit: cap });
      expectEveryEventOnce(ids);
      expect(report.complete).toBe(true);
      expect(owed).toEqual([]);
      expect(report.crowdedSeconds).toBeGreaterThanOrEqual(1);
      expect(report.observedCap).toBe(cap);
    });
  }

  it('with a cap of 10, reaches every author it can see, never duplicates, and owes what NIP-01 cannot prove', async () => {
    const { report, ids, owed } = await archive({ maxLimit: 10, defaultLimit: 10, count: 'closed' });
    expect(new Set(ids).size).toBe(ids.length);
    const crowdSecond = base + 1_500;
    const outsideCrowd = corpus.filter((event) => event.created_at !== crowdSecond).map((event) => event.id);
    const got = new Set(ids);
    expect(outsideCrowd.every((id) => got.has(id))).toBe(true);
    // 1,200 events in one second behind a cap of 10 and no COUNT: authors never shown cannot be asked for.
    expect(report.complete).toBe(false);
    expect(report.problems.crowded).toBeGreaterThan(0);
    expect(owed.some((window) => window.since === crowdSecond && window.until === crowdSecond && window.reason === 'crowded')).toBe(true);
  });

  it("with a cap of 10 and no COUNT, fetches the crowded second's events of every author the archive knows, and still owes the second", async () => {
    const crowdSecond = base + 1_500;
    const crowd = corpus.filter((event) => event.created_at === crowdSecond);
    const asked: [number, number][] = [];
    // The archive knows the authors of this second from other relays: every one, by kind.
    const knownAuthors = async (second: number, kind: number) => {
      asked.push([second, kind]);
      return [...new Set(crowd.filter((event) => event.kind === kind).map((event) => event.pubkey))];
    };
    const { report, ids, owed } = await archive({ maxLimit: 10, defaultLimit: 10, count: 'closed' }, { knownAuthors });
    const got = new Set(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(crowd.filter((event) => !got.has(event.id))).toEqual([]);
    expect(asked.every(([second]) => second === crowdSecond)).toBe(true);
    // Fetched, yet not proven: an author seen nowhere could have posted in that second too.
    expect(report.complete).toBe(false);
    expect(owed.some((window) => window.since === crowdSecond && window.reason === 'crowded')).toBe(true);
  });

  it('asks by id for the archived events of an author who alone fills a page in one second, and still owes the second', async () => {
    const second = base + 2_000;
    const prolific = generateEvents({ count: 35, authors: 1, kinds: [1], createdAt: second, seed: 'one-prolific-author' });
    const pubkey = (prolific[0] as NostrEvent).pubkey;
    const known = prolific.slice(0, 30).map((event) => event.id);
    const { report, ids, owed, relay } = await archive(
      { maxLimit: 10, defaultLimit: 10, count: 'closed' },
      {
        since: second,
        until: second,
        knownAuthors: async () => [pubkey],
        knownIds: async (_second, _kind, authors) => (authors.includes(pubkey) ? known : []),
      },
      {},
      prolific,
    );
    const got = new Set(ids);
    expect(new Set(ids).size).toBe(ids.length);
    // Every event the archive knew is fetched from this relay (its provenance recorded)...
    expect(known.filter((id) => !got.has(id))).toEqual([]);
    expect(relay.counters.reqs.some((req) => req.filters.some((filter) => (filter.ids?.length ?? 0) > 0))).toBe(true);
    // ...but the five it never knew may be missed, and nothing is proven.
    expect(report.complete).toBe(false);
    expect(owed.some((window) => window.since === second && window.reason === 'crowded')).toBe(true);
  });

  it("with a cap of 10, tests the relay's COUNT against a scope REQ proved, and trusts it when it agrees", async () => {
    const { report, limits, owed } = await archive({ maxLimit: 10, defaultLimit: 10 });
    expect(limits.values.count).toBe('agrees');
    // COUNT proves or refutes; it cannot name the authors never seen: the second stays owed, precisely.
    expect(report.complete).toBe(false);
    expect(owed.map((window) => [window.since, window.until])).toEqual([[base + 1_500, base + 1_500]]);
  });

  it('never takes a wrong COUNT as proof: it is tested against a scope REQ proved, and refused', async () => {
    const { report, limits } = await archive({ maxLimit: 10, defaultLimit: 10, misbehaviour: { countOffset: -3 } });
    expect(limits.values.count).toBe('disagrees');
    expect(report.complete).toBe(false);
  });

  it('without COUNT, still gets every event when kinds split the crowded second under the cap', async () => {
    const { report, ids } = await archive({ maxLimit: 300, count: 'closed' });
    expectEveryEventOnce(ids);
    expect(report.complete).toBe(true);
  });

  it("uses the relay's stated max_limit and the largest page it ever gave", async () => {
    const { report, ids } = await archive(
      { maxLimit: 300, defaultLimit: 300 },
      {},
      { statedMaxLimit: 300, pageLimit: 300, largestPage: 300 },
    );
    expectEveryEventOnce(ids);
    expect(report.complete).toBe(true);
  });

  it('handles a cap of 1 on a small window: gets everything, and proves nothing (no page can)', async () => {
    // Three events in one second (one per kind) and three spread out.
    const few = [
      ...generateEvents({ count: 3, kinds: [1, 7, 9], createdAt: base, seed: 'tiny-crowd' }),
      ...generateEvents({ count: 3, createdAt: [base + 1, base + 3], seed: 'tiny' }),
    ];
    const { report, ids } = await archive({ maxLimit: 1, defaultLimit: 1 }, { until: base + 10 }, {}, few);
    expectEveryEventOnce(ids, few);
    // Every page is full at a cap of 1, and no scope proved by REQ can vouch for the relay's COUNT.
    expect(report.complete).toBe(false);
  });
});

describe('paginateWindow: filter limits learned from refusals', () => {
  for (const mode of ['notice', 'notice-then-eose', 'closed'] as const) {
    it(`learns a kinds cap refused with ${mode} and still archives everything`, async () => {
      const { report, ids, limits, relay } = await archive({
        maxLimit: 300,
        count: 'closed',
        filterLimits: { kinds: 20, authors: 0, ids: 0, filters: 0 },
        filterRefusal: mode,
        refusalTexts: { kinds: 'invalid: must be less than or equal to {max} kinds at "[0].kinds"', authors: '', ids: '', filters: '' },
      });
      expectEveryEventOnce(ids);
      expect(report.complete).toBe(true);
      expect(limits.values.maxKinds).toBe(20);
      expect(report.refusals).toBe(1);
      expect(limits.takeLearned().limits).toEqual([expect.objectContaining({ field: 'kinds', value: 20 })]);
      // Nothing it sent afterwards was over the cap.
      const oversized = relay.counters.reqs.filter((req) => req.filters.some((filter) => (filter.kinds?.length ?? 0) > 20));
      expect(oversized.length).toBe(1);
    });
  }

  it('halves a list when the refusal names no number, down to what the relay runs', async () => {
    const { report, ids, limits } = await archive({
      maxLimit: 300,
      count: 'closed',
      filterLimits: { kinds: 10, authors: 0, ids: 0, filters: 0 },
      filterRefusal: 'notice-then-eose',
      refusalTexts: { kinds: 'too many kinds', authors: '', ids: '', filters: '' },
    });
    expectEveryEventOnce(ids);
    expect(report.complete).toBe(true);
    expect(limits.values.maxKinds).toBeLessThanOrEqual(10);
    expect(limits.values.maxKinds).toBeGreaterThanOrEqual(5);
    // Halved several times in the pass, stored once with the last value (one UPDATE cannot set a column twice).
    expect(limits.takeLearned().limits).toEqual([expect.objectContaining({ field: 'kinds', value: limits.values.maxKinds })]);
  });

  it('learns a cap on filters per REQ', async () => {
    const { report, ids, limits } = await archive(
      {
        maxLimit: 300,
        count: 'closed',
        filterLimits: { kinds: 0, authors: 0, ids: 0, filters: 3 },
        filterRefusal: 'closed',
        refusalTexts: { kinds: '', authors: '', ids: '', filters: 'invalid: limitation.max_filters {max}' },
      },
      {},
      { maxKinds: 16 },
    );
    expectEveryEventOnce(ids);
    expect(report.complete).toBe(true);
    expect(limits.values.maxFilters).toBe(3);
  });

  it('pages per kinds list on a relay that refuses filters without one', async () => {
    const { report, ids, limits } = await archive({
      maxLimit: 300,
      count: 'closed',
      narrowFilterRefusal: "blocked: can't handle empty filters",
    });
    expectEveryEventOnce(ids);
    expect(limits.values.requiresKinds).toBe(true);
    expect(report.complete).toBe(true);
  });

  it('a refusal that is not about size is tried once more, then surfaced with its text', async () => {
    const started = await archive({ maxLimit: 50, narrowFilterRefusal: 'restricted: members only' }).catch((caught: unknown) => caught);
    expect(started).toBeInstanceOf(RelayRefusedError);
    expect((started as RelayRefusedError).prefix).toBe('restricted');
    const relay = relays[relays.length - 1] as TestRelay;
    expect(relay.counters.reqs.length).toBe(2);
  });
});

describe('paginateWindow: hostile relays', () => {
  it('drops events outside the filter and counts them, still complete', async () => {
    const { report, ids } = await archive({ maxLimit: 200, misbehaviour: { outOfFilterEvents: 2 } }, { kinds: [7] });
    expect(report.outOfFilter).toBeGreaterThan(0);
    const expected = corpus.filter((event) => event.kind === 7);
    expectEveryEventOnce(ids, expected);
    expect(report.complete).toBe(true);
  });

  it('owes the window of a relay that ignores since/until instead of looping', async () => {
    const { report, owed } = await archive({ maxLimit: 100, misbehaviour: { ignoreSinceUntil: true } }, { since: base, until: base + 100 });
    expect(report.complete).toBe(false);
    expect(report.problems['ignores-time']).toBeGreaterThan(0);
    expect(owed.length).toBeGreaterThan(0);
    expect(report.requests).toBeLessThan(50);
  });

  it('stops at the request bound and says so', async () => {
    const { report } = await archive({ maxLimit: 10 }, { maxRequests: 5 });
    expect(report.requests).toBe(5);
    expect(report.complete).toBe(false);
    expect(report.stopped).toBe('request-bound');
  });

  it('stops at the time budget and says so', async () => {
    let calls = 0;
    const { report } = await archive({ maxLimit: 10 }, { deadline: 1_000, now: () => (calls++ < 4 ? 0 : 2_000) });
    expect(report.complete).toBe(false);
    expect(report.stopped).toBe('time-budget');
    expect(report.requests).toBe(4);
  });

  it('surfaces a rate limit that outlasts the retries as a typed refusal with its prefix', async () => {
    const error = await archive({ maxLimit: 50, misbehaviour: { rateLimitPerSecond: 1 } }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RelayRefusedError);
    expect((error as RelayRefusedError).prefix).toBe('rate-limited');
  });

  it('archives what a relay that never sends EOSE sends, and never calls it complete', async () => {
    const relay = await startTestRelay({ maxLimit: 100, misbehaviour: { neverEose: true } });
    relays.push(relay);
    const few = generateEvents({ count: 30, createdAt: [base, base + 29], seed: 'noeose' });
    relay.addEvents(few);
    const session = await openSession(relay.url, { ...clientConfig, idle_timeout_ms: 200 });
    const ids: string[] = [];
    const owed: OwedWindow[] = [];
    const report = await paginateWindow(
      session.fetchPage,
      {
        since: base,
        until: base + 100,
        limits: new RelayFilterLimits(),
        maxRequests: 100,
        onOwed: async (window) => void owed.push(window),
      },
      async (events) => {
        ids.push(...events.map((event) => event.id));
      },
    );
    session.close();
    expect(new Set(ids)).toEqual(new Set(few.map((event) => event.id)));
    expect(report.complete).toBe(false);
    expect(report.problems.stalled).toBeGreaterThan(0);
    expect(owed.length).toBeGreaterThan(0);
  });
});
