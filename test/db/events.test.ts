import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorsOfSecond, idsOfAuthorsInSecond } from '../../src/db/event-authors.js';
import { tagValues } from '../../src/db/event-codec.js';
import { getEventsByIds, insertEventBatch } from '../../src/db/events.js';
import { getOrCreateRelayIds } from '../../src/db/relays.js';
import { computeEventId } from '../../src/nostr/event-id.js';
import type { NostrEvent } from '../../src/nostr/event.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { storageEvent } from '../support/event-fixtures.js';

let test: TestDatabase;
let relayA: number;
let relayB: number;

beforeAll(async () => {
  test = await createTestDatabase();
  const ids = await getOrCreateRelayIds(
    test.db,
    [
      { url: 'wss://a.example/', network: 'clearnet' },
      { url: 'wss://b.example/', network: 'clearnet' },
    ],
    'test',
  );
  relayA = ids.get('wss://a.example/') as number;
  relayB = ids.get('wss://b.example/') as number;
});
afterAll(async () => {
  await test?.dispose();
});

async function count(sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await test.db.query<{ n: number }>(sql, params);
  return Number(rows[0]?.n);
}

describe('insertEventBatch', () => {
  it('stores each event once and records every relay it came from', async () => {
    const events = Array.from({ length: 25 }, () => storageEvent());
    // Duplicates inside the batch, and a batch size that splits it into several statements.
    const first = await insertEventBatch(test.db, [...events, events[0] as NostrEvent, events[3] as NostrEvent], relayA, { batchSize: 10 });
    expect(first).toEqual({ newEvents: 25, newRelayLinks: 25 });
    const again = await insertEventBatch(test.db, events, relayA, { batchSize: 7 });
    expect(again).toEqual({ newEvents: 0, newRelayLinks: 0 });
    const fromB = await insertEventBatch(test.db, [...events.slice(0, 10), storageEvent()], relayB);
    expect(fromB).toEqual({ newEvents: 1, newRelayLinks: 11 });
    const ids = events.map((event) => event.id);
    expect(
      await count(`SELECT count(*) AS n FROM event WHERE id = ANY(ARRAY(SELECT decode(x, 'hex') FROM unnest($1::text[]) x))`, [ids]),
    ).toBe(25);
    expect(
      await count(`SELECT count(*) AS n FROM event_relay WHERE event_id = ANY(ARRAY(SELECT decode(x, 'hex') FROM unnest($1::text[]) x))`, [
        ids,
      ]),
    ).toBe(35);
    const relaysOfFirst = await test.db.query<{ relay_id: number }>(
      `SELECT relay_id FROM event_relay WHERE event_id = decode($1, 'hex') ORDER BY relay_id`,
      [events[0]?.id],
    );
    expect(relaysOfFirst.rows.map((row) => row.relay_id)).toEqual([relayA, relayB]);
  });

  it('records when an event was first seen on a relay and never moves it later', async () => {
    const event = storageEvent();
    await insertEventBatch(test.db, [event], relayA, { seenAt: new Date('2025-01-02T03:04:05Z') });
    await insertEventBatch(test.db, [event], relayA, { seenAt: new Date('2026-01-01T00:00:00Z') });
    const { rows } = await test.db.query<{ first_seen_at: Date }>(
      `SELECT first_seen_at FROM event_relay WHERE event_id = decode($1, 'hex') AND relay_id = $2`,
      [event.id, relayA],
    );
    expect(rows[0]?.first_seen_at.toISOString()).toBe('2025-01-02T03:04:05.000Z');
  });

  it('gives back the exact event as signed: unicode, U+0000, lone surrogates, empty and huge tags, huge content', async () => {
    const tricky: NostrEvent[] = [
      storageEvent({ content: 'plain ✨ emoji 🧡 and "quotes" \\ backslash\n newline', tags: [] }),
      storageEvent({
        content: 'nul \u0000 in content',
        tags: [
          ['t', 'nul\u0000tag'],
          ['e', 'x'],
        ],
      }),
      storageEvent({ content: 'lone high \ud83d and lone low \udc00 surrogates', tags: [['alt', '\ud800']] }),
      storageEvent({ content: 'control \u0001\u001f chars', tags: [['t', '\u0007']] }),
      storageEvent({
        content: 'x'.repeat(200_000),
        tags: Array.from({ length: 2_000 }, (_, index) => ['p', index.toString(16).padStart(64, '0'), 'wss://relay.example/', 'mention']),
      }),
      storageEvent({ kind: 30023, content: '', tags: [['d', ''], ['title', 'τίτλος'], ['empty']] }),
    ];
    await insertEventBatch(test.db, tricky, relayA);
    const back = await getEventsByIds(
      test.db,
      tricky.map((event) => event.id),
    );
    const byId = new Map(back.map((event) => [event.id, event]));
    for (const original of tricky) {
      const stored = byId.get(original.id);
      expect(stored, original.content.slice(0, 30)).toEqual(original);
      // Re-verifiable from the database: the id recomputes from what was stored.
      expect(computeEventId(stored as NostrEvent)).toBe(original.id);
    }
    const raw = await test.db.query<{ has_raw: boolean; content: string }>(
      `SELECT raw_json IS NOT NULL AS has_raw, content FROM event WHERE id = decode($1, 'hex')`,
      [tricky[1]?.id],
    );
    expect(raw.rows[0]).toEqual({ has_raw: true, content: 'nul \ufffd in content' });
    const plain = await test.db.query<{ has_raw: boolean }>(
      `SELECT raw_json IS NOT NULL AS has_raw FROM event WHERE id = decode($1, 'hex')`,
      [tricky[0]?.id],
    );
    expect(plain.rows[0]?.has_raw).toBe(false);
  });

  it('indexes the first value of single-letter tags for #x queries', async () => {
    const target = 'f'.repeat(64);
    const event = storageEvent({
      tags: [
        ['e', target, 'wss://hint/'],
        ['t', 'Nostr'],
        ['t', 'Nostr'],
        ['title', 'not indexed'],
        ['T', 'Upper'],
      ],
    });
    await insertEventBatch(test.db, [event], relayA);
    const { rows } = await test.db.query<{ tagvalues: string[] }>(`SELECT tagvalues FROM event WHERE id = decode($1, 'hex')`, [event.id]);
    expect(rows[0]?.tagvalues).toEqual([`e:${target}`, 't:Nostr', 'T:Upper']);
    expect(await count(`SELECT count(*) AS n FROM event WHERE tagvalues @> ARRAY[$1]`, [`e:${target}`])).toBe(1);
  });

  it('stores the tag values the codec computes, whatever the tags hold (quotes, backslashes, braces, U+0000, many values)', async () => {
    const events = [
      storageEvent({
        tags: [
          ['t', 'say "hi"'],
          ['t', 'back\\slash\\'],
          ['t', '{braces},commas'],
          ['t', 'NULL'],
          ['t', ''],
          ['t', ' spaced '],
        ],
      }),
      storageEvent({
        tags: [
          ['t', 'nul\u0000here'],
          ['t', 'nul\ufffdhere'],
          ['p', '\ud800'],
        ],
      }),
      storageEvent({ tags: Array.from({ length: 40 }, (_, index) => ['t', `v${index % 25}`]) }),
      storageEvent({ tags: [['e'], ['ab', 'x'], ['1', 'y'], ['_', 'z'], ['é', 'w'], ['Z', 'upper']] }),
    ];
    await insertEventBatch(test.db, events, relayA);
    const { rows } = await test.db.query<{ id: string; tagvalues: string[] }>(
      `SELECT encode(id, 'hex') AS id, tagvalues FROM event WHERE id = ANY(ARRAY(SELECT decode(x, 'hex') FROM unnest($1::text[]) x))`,
      [events.map((event) => event.id)],
    );
    const stored = new Map(rows.map((row) => [row.id, row.tagvalues]));
    for (const event of events) expect(stored.get(event.id), JSON.stringify(event.tags).slice(0, 60)).toEqual(tagValues(event.tags));
  });

  it('keeps event_relay.relay_id pointing at a relay: an unknown relay is refused, deleting a relay deletes its rows, a referenced id cannot change', async () => {
    const ids = await getOrCreateRelayIds(test.db, [{ url: 'wss://gone.example/', network: 'clearnet' }], 'test');
    const gone = ids.get('wss://gone.example/') as number;
    const event = storageEvent();
    await expect(insertEventBatch(test.db, [event], 2_000_000_000)).rejects.toMatchObject({
      code: '23503',
      message: expect.stringContaining('event_relay'),
    });
    expect(await count(`SELECT count(*) AS n FROM event WHERE id = decode($1, 'hex')`, [event.id])).toBe(0); // the statement failed as a whole
    await insertEventBatch(test.db, [event], gone);
    await insertEventBatch(test.db, [event], relayA);
    await expect(test.db.query(`UPDATE event_relay SET relay_id = 2000000000 WHERE relay_id = $1`, [gone])).rejects.toMatchObject({
      code: '23503',
      message: expect.stringContaining('event_relay'),
    });
    // The id is an identity column: DEFAULT is the one new value an UPDATE may give it.
    await expect(test.db.query(`UPDATE relay SET id = DEFAULT WHERE id = $1`, [gone])).rejects.toMatchObject({
      code: '23503',
      message: expect.stringContaining('event_relay'),
    });
    await test.db.query(`DELETE FROM relay WHERE id = $1`, [gone]);
    expect(await count(`SELECT count(*) AS n FROM event_relay WHERE relay_id = $1`, [gone])).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM event_relay WHERE event_id = decode($1, 'hex')`, [event.id])).toBe(1);
  });

  it('routes events to yearly partitions, with a default partition for the rest', async () => {
    const when = (iso: string) => Math.floor(Date.parse(iso) / 1000);
    const events = [
      storageEvent({ created_at: when('2021-06-01T00:00:00Z') }),
      storageEvent({ created_at: when('2024-12-31T23:59:59Z') }),
      storageEvent({ created_at: 1 }),
      storageEvent({ created_at: when('2099-01-01T00:00:00Z') }),
    ];
    await insertEventBatch(test.db, events, relayA);
    const { rows } = await test.db.query<{ partition: string }>(
      `SELECT tableoid::regclass::text AS partition FROM event WHERE id = ANY(ARRAY(SELECT decode(x, 'hex') FROM unnest($1::text[]) x)) ORDER BY created_at`,
      [events.map((event) => event.id)],
    );
    expect(rows.map((row) => row.partition)).toEqual(['event_default', 'event_y2021', 'event_y2024', 'event_default']);
  });

  it('names the distinct authors of one kind in one second (for splitting a crowded second by author)', async () => {
    const second = 1_650_000_123;
    const alice = 'a1'.repeat(32);
    const bob = 'b2'.repeat(32);
    const events = [
      storageEvent({ pubkey: alice, created_at: second, kind: 1, content: 'one' }),
      storageEvent({ pubkey: alice, created_at: second, kind: 1, content: 'two' }),
      storageEvent({ pubkey: bob, created_at: second, kind: 1 }),
      storageEvent({ pubkey: bob, created_at: second, kind: 7 }),
      storageEvent({ pubkey: 'c3'.repeat(32), created_at: second + 1, kind: 1 }),
    ];
    await insertEventBatch(test.db, events, relayA);
    expect((await authorsOfSecond(test.db, second, 1, 100)).sort()).toEqual([alice, bob]);
    expect(await authorsOfSecond(test.db, second, 7, 100)).toEqual([bob]);
    expect(await authorsOfSecond(test.db, second, 1, 1)).toHaveLength(1);
    expect(await authorsOfSecond(test.db, second - 1, 1, 100)).toEqual([]);
    const aliceNotes = events
      .slice(0, 2)
      .map((event) => event.id)
      .sort();
    expect((await idsOfAuthorsInSecond(test.db, second, 1, [alice], 100)).sort()).toEqual(aliceNotes);
    expect((await idsOfAuthorsInSecond(test.db, second, 1, [alice, bob], 100)).sort()).toEqual(
      [...aliceNotes, (events[2] as NostrEvent).id].sort(),
    );
    expect(await idsOfAuthorsInSecond(test.db, second, 7, [alice], 100)).toEqual([]);
    expect(await idsOfAuthorsInSecond(test.db, second, 1, [], 100)).toEqual([]);
  });

  it('counts what it stores in the archive counters: new events once, new pairs once (migration 0014)', async () => {
    const counter = (metric: string) =>
      count(
        `SELECT coalesce(sum(value), 0) AS n FROM (SELECT value FROM archive_counter WHERE metric = $1 UNION ALL SELECT value FROM archive_counter_delta WHERE metric = $1) AS c`,
        [metric],
      );
    const events = Array.from({ length: 6 }, () => storageEvent({ kind: 42_424 }));
    const before = { events: await counter('events'), pairs: await counter('event_relay'), kind: await counter('events_by_kind') };
    // Duplicates within the batch, then the same again (archived), then a new relay for known events plus one new event.
    expect(await insertEventBatch(test.db, [...events, ...events.slice(0, 3)], relayA, { batchSize: 4 })).toEqual({
      newEvents: 6,
      newRelayLinks: 6,
    });
    expect(await insertEventBatch(test.db, events, relayA)).toEqual({ newEvents: 0, newRelayLinks: 0 });
    expect(await insertEventBatch(test.db, [...events.slice(0, 2), storageEvent({ kind: 42_424 })], relayB)).toEqual({
      newEvents: 1,
      newRelayLinks: 3,
    });
    expect(await counter('events')).toBe(before.events + 7);
    expect(await counter('event_relay')).toBe(before.pairs + 9);
    expect(
      await count(
        `SELECT coalesce(sum(value), 0) AS n FROM (SELECT value FROM archive_counter WHERE metric = 'events_by_kind' AND key = 42424 UNION ALL SELECT value FROM archive_counter_delta WHERE metric = 'events_by_kind' AND key = 42424) AS c`,
      ),
    ).toBe(7);
    expect(await counter('events_by_kind')).toBe(before.kind + 7);
  });

  it("inside a caller's transaction: its batches are part of it, and a failure takes them all back", async () => {
    const events = Array.from({ length: 9 }, () => storageEvent());
    const ids = events.map((event) => event.id);
    const stored = () =>
      count(`SELECT count(*) AS n FROM event WHERE id = ANY(ARRAY(SELECT decode(x, 'hex') FROM unnest($1::text[]) x))`, [ids]);
    // Several batches in one transaction (the synchronizer's commits), duplicates across them.
    const result = await test.db.transaction(async (tx) => {
      const first = await insertEventBatch(tx, [...events.slice(0, 5), events[0] as NostrEvent], relayA, { batchSize: 2 });
      const second = await insertEventBatch(tx, events, relayA, { batchSize: 4 });
      return [first, second];
    });
    expect(result).toEqual([
      { newEvents: 5, newRelayLinks: 5 },
      { newEvents: 4, newRelayLinks: 4 },
    ]);
    expect(await stored()).toBe(9);
    const more = Array.from({ length: 3 }, () => storageEvent());
    await expect(
      test.db.transaction(async (tx) => {
        await insertEventBatch(tx, more, relayA);
        await insertEventBatch(tx, [storageEvent()], 2_000_000_000);
      }),
    ).rejects.toMatchObject({ code: '23503' });
    expect(
      await count(`SELECT count(*) AS n FROM event WHERE id = ANY(ARRAY(SELECT decode(x, 'hex') FROM unnest($1::text[]) x))`, [
        more.map((event) => event.id),
      ]),
    ).toBe(0);
  });

  it('refuses an id, pubkey or sig that is not hex of its length, storing nothing of the batch', async () => {
    const good = storageEvent();
    for (const bad of [
      { ...storageEvent(), id: 'zz'.repeat(32) },
      { ...storageEvent(), pubkey: 'ab'.repeat(31) },
      { ...storageEvent(), sig: `${'00'.repeat(63)}0g` },
    ]) {
      await expect(insertEventBatch(test.db, [good, bad], relayA)).rejects.toThrow(/not hex of the right length/);
    }
    expect(await count(`SELECT count(*) AS n FROM event WHERE id = decode($1, 'hex')`, [good.id])).toBe(0);
  });

  it('an empty batch is a no-op', async () => {
    expect(await insertEventBatch(test.db, [], relayA)).toEqual({ newEvents: 0, newRelayLinks: 0 });
  });
});
