import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RelayConnection } from '../../src/relay/connection.js';
import { connectionCounter, connectionPageFetcher, RelayRefusedError, type FetchPageStats } from '../../src/relay/fetch-page.js';
import { paginateWindow, type PaginateOptions, type PaginateReport } from '../../src/relay/paginate.js';
import { relaySchema } from '../../src/config/schema.js';
import type { NostrEvent } from '../../src/nostr/event.js';
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

async function archive(relayOptions: Partial<TestRelayOptions>, options: Partial<PaginateOptions> = {}, useCount = true): Promise<{ report: PaginateReport; ids: string[]; stats: FetchPageStats }> {
  const relay = await startTestRelay({ keepAllVersions: true, ...relayOptions });
  relays.push(relay);
  relay.addEvents(corpus);
  const connection = await RelayConnection.open({ url: relay.url, config: clientConfig });
  const stats: FetchPageStats = { malformed: 0, endedWithoutEose: 0 };
  const ids: string[] = [];
  try {
    const report = await paginateWindow(
      connectionPageFetcher(connection, stats),
      { since: base, until: base + 3_000, pageLimit: 500, maxPages: 10_000, maxKindsPerFilter: 4_096, ...options },
      async (events) => {
        ids.push(...events.map((event) => event.id));
      },
      useCount ? connectionCounter(connection) : undefined,
    );
    return { report, ids, stats };
  } finally {
    connection.close();
  }
}

function expectEveryEventOnce(ids: string[]): void {
  expect(ids.length).toBe(corpus.length);
  expect(new Set(ids).size).toBe(corpus.length);
  expect(new Set(ids)).toEqual(new Set(corpus.map((event) => event.id)));
}

describe('paginateWindow: completeness under limit caps', () => {
  for (const cap of [500, 100]) {
    it(`gets every event exactly once when the relay silently caps limit at ${cap}`, async () => {
      const { report, ids } = await archive({ maxLimit: cap, defaultLimit: cap });
      expectEveryEventOnce(ids);
      expect(report.complete).toBe(true);
      expect(report.crowdedSeconds).toBeGreaterThanOrEqual(1);
      expect(report.observedCap).toBe(cap);
    });
  }

  it('with a cap of 10, reaches every author it can see, never duplicates, and reports what NIP-01 cannot prove', async () => {
    const { report, ids } = await archive({ maxLimit: 10, defaultLimit: 10 });
    expect(new Set(ids).size).toBe(ids.length);
    const crowdSecond = base + 1_500;
    const outsideCrowd = corpus.filter((event) => event.created_at !== crowdSecond).map((event) => event.id);
    const got = new Set(ids);
    expect(outsideCrowd.every((id) => got.has(id))).toBe(true);
    // 1,200 events in one second behind a cap of 10: authors never shown cannot be asked for.
    expect(report.complete).toBe(false);
    expect(report.incompleteReason).toMatch(/negentropy/);
    expect(report.observedCap).toBe(10);
  });

  it('without COUNT, still gets every event and splits conservatively', async () => {
    const { report, ids } = await archive({ maxLimit: 100, misbehaviour: { noCount: true } }, {}, true);
    expectEveryEventOnce(ids);
    // Without a count, authors absent from every page cannot be ruled out: the report says so.
    expect(report.complete).toBe(false);
    expect(report.incompleteReason).toMatch(/negentropy/);
  });

  it('uses the known max_limit from NIP-11 to avoid needless splitting', async () => {
    const { report, ids } = await archive({ maxLimit: 300, defaultLimit: 300 }, { knownMaxLimit: 300 });
    expectEveryEventOnce(ids);
    expect(report.complete).toBe(true);
  });

  it('handles a cap of 1 on a small window', async () => {
    const relay = await startTestRelay({ maxLimit: 1, defaultLimit: 1 });
    relays.push(relay);
    // Three events in one second (one per kind) and three spread out.
    const few = [...generateEvents({ count: 3, kinds: [1, 7, 9], createdAt: base, seed: 'tiny-crowd' }), ...generateEvents({ count: 3, createdAt: [base + 1, base + 3], seed: 'tiny' })];
    relay.addEvents(few);
    const connection = await RelayConnection.open({ url: relay.url, config: clientConfig });
    const ids: string[] = [];
    const report = await paginateWindow(
      connectionPageFetcher(connection, { malformed: 0, endedWithoutEose: 0 }),
      { since: base, until: base + 10, pageLimit: 500, maxPages: 10_000, maxKindsPerFilter: 4_096 },
      async (events) => {
        ids.push(...events.map((event) => event.id));
      },
      connectionCounter(connection),
    );
    connection.close();
    expect(new Set(ids)).toEqual(new Set(few.map((event) => event.id)));
    expect(ids.length).toBe(6);
    // The crowded second is split by kind until each page holds one event, and COUNT proves it.
    expect(report.complete).toBe(true);
  });
});

describe('paginateWindow: hostile relays', () => {
  it('drops events outside the filter and counts them', async () => {
    const { report, ids } = await archive({ maxLimit: 200, misbehaviour: { outOfFilterEvents: 2 } }, { kinds: [7] });
    expect(report.outOfFilter).toBeGreaterThan(0);
    const expected = corpus.filter((event) => event.kind === 7).map((event) => event.id);
    expect(new Set(ids)).toEqual(new Set(expected));
    expect(ids.length).toBe(expected.length);
  });

  it('reports a relay that ignores since/until instead of looping', async () => {
    const { report } = await archive({ maxLimit: 100, misbehaviour: { ignoreSinceUntil: true } }, { since: base, until: base + 100 });
    expect(report.complete).toBe(false);
    expect(report.pages).toBeLessThan(50);
  });

  it('stops at the page bound and says so', async () => {
    const { report } = await archive({ maxLimit: 10 }, { maxPages: 5 });
    expect(report.pages).toBe(5);
    expect(report.complete).toBe(false);
    expect(report.incompleteReason).toMatch(/page bound/);
  });

  it('surfaces rate limiting as a typed refusal with its prefix', async () => {
    const error = await archive({ maxLimit: 50, misbehaviour: { rateLimitPerSecond: 3 } }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RelayRefusedError);
    expect((error as RelayRefusedError).prefix).toBe('rate-limited');
  });

  it('treats a relay that never sends EOSE as ending pages on idle', async () => {
    const relay = await startTestRelay({ maxLimit: 100, misbehaviour: { neverEose: true } });
    relays.push(relay);
    const few = generateEvents({ count: 30, createdAt: [base, base + 29], seed: 'noeose' });
    relay.addEvents(few);
    const connection = await RelayConnection.open({ url: relay.url, config: { ...clientConfig, idle_timeout_ms: 200 } });
    const stats = { malformed: 0, endedWithoutEose: 0 };
    const ids: string[] = [];
    await paginateWindow(connectionPageFetcher(connection, stats), { since: base, until: base + 100, pageLimit: 100, maxPages: 100, maxKindsPerFilter: 4_096 }, async (events) => {
      ids.push(...events.map((event) => event.id));
    });
    connection.close();
    expect(new Set(ids)).toEqual(new Set(few.map((event) => event.id)));
    expect(stats.endedWithoutEose).toBeGreaterThan(0);
  });
});
