/**
 * Tag searches through growing windows of time (src/db/event-search.ts) give exactly the answer of
 * the one query over the whole archive, for tags whose matches are recent, old, future-dated, sparse
 * or absent, with since/until, cursors and several filters, and they stop early where the newest
 * window already holds a page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../../src/db/database.js';
import {
  eventQuery,
  eventsJsonQuery,
  findEvents,
  findEventsJson,
  type ArchiveFilter,
  type EventPosition,
} from '../../src/db/event-query.js';
import { SEARCH_WINDOWS_SECONDS, searchEvents, searchEventsJson, searchesByWindow } from '../../src/db/event-search.js';
import { insertEventBatch } from '../../src/db/events.js';
import type { NostrEvent } from '../../src/nostr/event.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { generateEvents } from '../support/events.js';

const NOW = 1_800_000_000;
const HOUR = 3_600;
const DAY = 86_400;
/** Windows whatever the planner expects (the rows here are too few for it to choose them). */
const ALWAYS = { nowSeconds: NOW, windowAbove: 0 };

/** Events tagged `tag` spread evenly over [from, to] (seconds). */
const tagged = (seed: string, count: number, tag: string[][], from: number, to: number): NostrEvent[] =>
  generateEvents({ seed, count, authors: 3, createdAt: [from, to], tags: tag });

/** A Queryable that counts the statements sent through it. */
function counting(db: Queryable): Queryable & { statements: number } {
  const counter = {
    statements: 0,
    query: <Row>(sql: string, params?: unknown[]) => {
      counter.statements += 1;
      return db.query<Row>(sql, params);
    },
    exec: (sql: string) => db.exec(sql),
  };
  return counter;
}

describe('tag searches by window', () => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await createTestDatabase();
    const events = [
      // Popular and recent: 150 in the last half hour, 60 over the year before.
      ...tagged('hot-recent', 150, [['t', 'hot']], NOW - 1_800, NOW - 1),
      ...tagged('hot-old', 60, [['t', 'hot']], NOW - 365 * DAY, NOW - 2 * DAY),
      // Only old matches, two to three years back.
      ...tagged('cold', 40, [['t', 'cold']], NOW - 3 * 365 * DAY, NOW - 2 * 365 * DAY),
      // Matches at many distances, a few dated ahead of the clock, and one at the exact window edges.
      ...tagged(
        'spread',
        90,
        [
          ['t', 'spread'],
          ['p', 'a'.repeat(64)],
        ],
        NOW - 5 * 365 * DAY,
        NOW + 30 * DAY,
      ),
      ...SEARCH_WINDOWS_SECONDS.map(
        (width, index) => tagged(`edge-${index}`, 1, [['t', 'spread']], NOW - width, NOW - width)[0] as NostrEvent,
      ),
      // Many events in one second (ties broken by id).
      ...tagged('tie', 30, [['t', 'tie']], NOW - 10 * DAY, NOW - 10 * DAY),
      // Untagged noise around them.
      ...generateEvents({ seed: 'noise', count: 200, createdAt: [NOW - 4 * 365 * DAY, NOW] }),
    ];
    await insertEventBatch(test.db, events, null);
  });

  afterAll(async () => {
    await test.dispose();
  });

  const ids = (events: NostrEvent[]) => events.map((event) => event.id);

  it('answers every tag, limit, bound and cursor exactly as the whole-archive query', async () => {
    const filters: ArchiveFilter[] = [
      { tags: { t: ['hot'] } },
      { tags: { t: ['cold'] } },
      { tags: { t: ['spread'] } },
      { tags: { t: ['tie'] } },
      { tags: { t: ['absent'] } },
      { tags: { t: ['hot', 'cold'] } },
      { tags: { t: ['spread'], p: ['a'.repeat(64)] } },
      { anyTag: ['spread'] },
      { tags: { t: ['spread'] }, kinds: [1] },
      { tags: { t: ['hot'] }, since: NOW - 3 * DAY },
      { tags: { t: ['hot'] }, until: NOW - DAY },
      { tags: { t: ['spread'] }, since: NOW - 400 * DAY, until: NOW - 10 * DAY },
      { tags: { t: ['spread'] }, until: NOW + 365 * DAY },
    ];
    let compared = 0;
    for (const filter of filters) {
      for (const limit of [1, 7, 100, 151, 500]) {
        const expected = await findEvents(test.db, eventQuery(filter, limit));
        const found = await searchEvents(test.db, [filter], limit, undefined, ALWAYS);
        expect(ids(found), `${JSON.stringify(filter)} limit ${limit}`).toEqual(ids(expected));
        compared += 1;
        // Page through with cursors: every page as the whole-archive query's page.
        let position: EventPosition | undefined;
        for (let page = 0; page < 40; page += 1) {
          const whole = await findEvents(test.db, eventQuery(filter, limit, position));
          const windowed = await searchEvents(test.db, [filter], limit, position, ALWAYS);
          expect(ids(windowed), `${JSON.stringify(filter)} limit ${limit} page ${page}`).toEqual(ids(whole));
          compared += 1;
          const last = whole[whole.length - 1];
          if (whole.length < limit || !last) break;
          position = { createdAt: last.created_at, id: last.id };
        }
      }
    }
    expect(compared).toBeGreaterThan(300);
  });

  it('answers several filters of one REQ as the whole-archive query, as JSON', async () => {
    const requests: ArchiveFilter[][] = [
      [{ tags: { t: ['cold'] } }, { tags: { t: ['tie'] } }],
      [{ tags: { t: ['hot'] } }, { kinds: [1], until: NOW - 1_000 * DAY }],
      [
        { tags: { t: ['spread'] }, since: NOW - 20 * DAY },
        { tags: { t: ['cold'] }, until: NOW - 700 * DAY },
      ],
    ];
    for (const filters of requests) {
      for (const limit of [5, 100, 1_000]) {
        const expected = await findEventsJson(test.db, eventsJsonQuery(filters, limit));
        expect(await searchEventsJson(test.db, filters, limit, ALWAYS), `${JSON.stringify(filters)} limit ${limit}`).toEqual(expected);
      }
    }
  });

  it('stops in the newest window when it holds a page, and widens only as far as needed', async () => {
    const recent = counting(test.db);
    expect(await searchEvents(recent, [{ tags: { t: ['hot'] } }], 100, undefined, ALWAYS)).toHaveLength(100);
    // The newest created_at, then the first window (one hour): 150 matches there.
    expect(recent.statements).toBe(2);

    const old = counting(test.db);
    expect(await searchEvents(old, [{ tags: { t: ['cold'] } }], 10, undefined, ALWAYS)).toHaveLength(10);
    // Matches only two to three years back: every window is tried, the widest (3.7 years) holds them.
    expect(old.statements).toBe(1 + SEARCH_WINDOWS_SECONDS.length);

    const absent = counting(test.db);
    expect(await searchEvents(absent, [{ tags: { t: ['absent'] } }], 10, undefined, ALWAYS)).toEqual([]);
    // No match anywhere: every window, then the whole archive.
    expect(absent.statements).toBe(1 + SEARCH_WINDOWS_SECONDS.length + 1);

    const direct = counting(test.db);
    await searchEvents(direct, [{ tags: { t: ['hot'] }, ids: ['0'.repeat(64)] }], 10, undefined, ALWAYS);
    await searchEvents(direct, [{ authors: ['b'.repeat(64)] }], 10, undefined, ALWAYS);
    // No tag, or ids given: one query as before.
    expect(direct.statements).toBe(2);
  });

  it('widens only while a window starts after the lowest since of the filters', async () => {
    const bounded = counting(test.db);
    await searchEvents(bounded, [{ tags: { t: ['absent'] }, since: NOW - 2 * HOUR }], 10, undefined, ALWAYS);
    // The newest created_at, the one-hour window, then the whole query (the 8-hour window would start before since).
    expect(bounded.statements).toBe(3);
  });

  it('reads a value the planner expects to be rare whole, and a common one by window', async () => {
    await test.db.exec('ANALYZE event');
    const rare = counting(test.db);
    const found = await searchEvents(rare, [{ tags: { t: ['absent'] } }], 5, undefined, { nowSeconds: NOW });
    expect(found).toEqual([]);
    // The planner's estimate, then the whole archive's query: no windows.
    expect(rare.statements).toBe(2);

    const common = counting(test.db);
    const newest = await searchEvents(common, [{ tags: { t: ['hot'] } }], 5, undefined, { nowSeconds: NOW });
    expect(ids(newest)).toEqual(ids(await findEvents(test.db, eventQuery({ tags: { t: ['hot'] } }, 5))));
    // The estimate (210 of 600 events carry it), an unknown value's estimate, the newest created_at, the one-hour window.
    expect(common.statements).toBe(4);
  });

  it('reads a value whole when the planner expects no more of it than of a value it does not know', async () => {
    await test.db.exec('ANALYZE event');
    // A threshold so low that the first test never decides: the comparison with an unknown value does.
    const options = { nowSeconds: NOW, windowAbove: 0.0001 };
    const unknown = counting(test.db);
    expect(await searchEvents(unknown, [{ tags: { t: ['absent'] } }], 5, undefined, options)).toEqual([]);
    // Its estimate, the unknown value's, then the whole archive's query.
    expect(unknown.statements).toBe(3);

    const known = counting(test.db);
    expect(await searchEvents(known, [{ tags: { t: ['hot'] } }], 5, undefined, options)).toHaveLength(5);
    // Among the most common elements: windows (the newest created_at, the one-hour window).
    expect(known.statements).toBe(4);
  });

  it('searches by window only for tag filters without ids', () => {
    expect(searchesByWindow([{ tags: { t: ['x'] } }])).toBe(true);
    expect(searchesByWindow([{ anyTag: ['x'] }, { kinds: [1] }])).toBe(true);
    expect(searchesByWindow([{ tags: { t: ['x'] }, ids: ['a'.repeat(64)] }])).toBe(false);
    expect(searchesByWindow([{ kinds: [1] }])).toBe(false);
  });
});
