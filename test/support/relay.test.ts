import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { finalizeEvent } from 'nostr-tools/pure';
import { connectRaw } from './relay-client.js';
import { startTestRelay } from './relay/server.js';
import { relayHarness } from './relay-harness.js';
import { generateEvents, testSecretKey, withBadSignature } from './events.js';
import { hexToBytes } from '../../src/nostr/hex.js';
import { verifyEvent } from '../../src/nostr/verify-event.js';
import { loadVerifier } from '../../src/nostr/schnorr.js';
import type { NostrEvent } from '../../src/nostr/event.js';

const { relay, client } = relayHarness();

const base = 1_700_000_000;
let fixtures: NostrEvent[];
beforeAll(() => {
  fixtures = [
    ...generateEvents({ count: 30, authors: 3, kinds: [1, 7], createdAt: [base, base + 29], tags: [['t', 'nostr']] }),
    ...generateEvents({ count: 10, authors: 1, kinds: [1], createdAt: base + 100, seed: 'same-second' }),
  ];
});

describe('test relay: NIP-01 queries', () => {
  it('answers newest first, ties by lowest id, then EOSE', async () => {
    const server = await relay();
    server.addEvents(fixtures);
    const connected = await client(server);
    const { events, end } = await connected.req('all', {});
    expect(end[0]).toBe('EOSE');
    expect(events.length).toBe(40);
    const expected = [...fixtures].sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : 1)).map((event) => event.id);
    expect(events.map((event) => event.id)).toEqual(expected);
  });

  it('applies each filter field, inclusive time bounds, OR between filters without duplicates', async () => {
    const server = await relay();
    server.addEvents(fixtures);
    const connected = await client(server);
    const author = fixtures[0]?.pubkey as string;
    const byAuthor = await connected.req('a', { authors: [author] });
    expect(byAuthor.events.length).toBe(fixtures.filter((event) => event.pubkey === author).length);
    const byKind = await connected.req('k', { kinds: [7] });
    expect(byKind.events.length).toBe(15);
    const window = await connected.req('w', { since: base + 5, until: base + 9 });
    expect(window.events.map((event) => event.created_at).sort()).toEqual([base + 5, base + 6, base + 7, base + 8, base + 9]);
    const byTag = await connected.req('t', { '#t': ['nostr'], until: base + 1 });
    expect(byTag.events.length).toBe(2);
    const byIds = await connected.req('i', { ids: [fixtures[3]?.id, fixtures[4]?.id] });
    expect(byIds.events.map((event) => event.id).sort()).toEqual([fixtures[3]?.id, fixtures[4]?.id].sort());
    const union = await connected.req('u', { kinds: [7] }, { since: base + 100 }, { kinds: [7], limit: 2 });
    expect(union.events.length).toBe(25);
    expect(new Set(union.events.map((event) => event.id)).size).toBe(25);
  });

  it('caps limit silently at maxLimit, down to 1, and applies the default limit', async () => {
    const server = await relay({ maxLimit: 3, defaultLimit: 2 });
    server.addEvents(fixtures);
    const connected = await client(server);
    expect((await connected.req('big', { limit: 1000 })).events.length).toBe(3);
    expect((await connected.req('none', {})).events.length).toBe(2);
    server.setOptions({ maxLimit: 1 });
    const one = await connected.req('one', { limit: 5, since: base + 100 });
    expect(one.events.length).toBe(1);
    // The same-second events: limit 1 returns the lowest id of the newest second.
    const sameSecond = fixtures
      .filter((event) => event.created_at === base + 100)
      .map((event) => event.id)
      .sort();
    expect(one.events[0]?.id).toBe(sameSecond[0]);
  });

  it('advertises max_limit over NIP-11 and serves broken documents on request', async () => {
    const server = await relay({ maxLimit: 250 });
    const response = await fetch(server.httpUrl, { headers: { accept: 'application/nostr+json' } });
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    const document = (await response.json()) as { limitation: { max_limit: number }; supported_nips: number[] };
    expect(document.limitation.max_limit).toBe(250);
    expect(document.supported_nips).toContain(11);
    server.setBehaviour({ nip11Mode: 'html' });
    expect(await (await fetch(server.httpUrl, { headers: { accept: 'application/nostr+json' } })).text()).toContain('<html>');
    server.setBehaviour({ nip11Mode: 'wrong-types' });
    expect(
      ((await (await fetch(server.httpUrl, { headers: { accept: 'application/nostr+json' } })).json()) as { name: unknown }).name,
    ).toBe(7);
    server.setBehaviour({ nip11Mode: 'invalid-json' });
    await expect((await fetch(server.httpUrl, { headers: { accept: 'application/nostr+json' } })).json()).rejects.toThrow();
  });

  it('pushes live events after EOSE and stops after CLOSE; answers COUNT', async () => {
    const server = await relay();
    const connected = await client(server);
    await connected.req('live', { kinds: [1] });
    const [late] = generateEvents({ count: 1, createdAt: base + 500, seed: 'late' });
    server.addEvents([late as NostrEvent]);
    const pushed = await connected.waitFor((message) => message[0] === 'EVENT' && message[1] === 'live');
    expect((pushed[2] as NostrEvent).id).toBe(late?.id);
    connected.send(['CLOSE', 'live']);
    connected.send(['COUNT', 'c', { kinds: [1] }]);
    const count = await connected.waitFor((message) => message[0] === 'COUNT');
    expect(count[2]).toEqual({ count: 1 });
    server.addEvents(generateEvents({ count: 1, createdAt: base + 501, seed: 'later' }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(connected.messages.filter((message) => Array.isArray(message) && message[0] === 'EVENT' && message[1] === 'live').length).toBe(
      1,
    );
  });

  it('accepts valid EVENTs with OK, refuses bad ones with a prefix, keeps only the newest replaceable', async () => {
    const server = await relay();
    const connected = await client(server);
    const key = testSecretKey('publish', 0);
    const [good] = generateEvents({ count: 1, seed: 'publish', authors: 1 });
    connected.send(['EVENT', good]);
    expect(await connected.waitFor((message) => message[0] === 'OK' && message[1] === good?.id)).toEqual(['OK', good?.id, true, '']);
    connected.send(['EVENT', good]);
    expect(
      (
        await connected.waitFor((message) => message[0] === 'OK' && message[1] === good?.id && String(message[3]).startsWith('duplicate:'))
      )[2],
    ).toBe(true);
    const bad = withBadSignature(generateEvents({ count: 1, seed: 'bad' })[0] as NostrEvent);
    connected.send(['EVENT', bad]);
    const refused = await connected.waitFor((message) => message[0] === 'OK' && message[1] === bad.id);
    expect(refused[2]).toBe(false);
    expect(String(refused[3])).toMatch(/^invalid:/);
    const older = finalizeEvent({ kind: 10002, created_at: base, tags: [['r', 'wss://a/']], content: '' }, hexToBytes(key));
    const newer = finalizeEvent({ kind: 10002, created_at: base + 1, tags: [['r', 'wss://b/']], content: '' }, hexToBytes(key));
    server.addEvents([newer as NostrEvent, older as NostrEvent]);
    const lists = await connected.req('lists', { kinds: [10002] });
    expect(lists.events.map((event) => event.id)).toEqual([newer.id]);
  });

  it('rejects long subscription ids and malformed messages', async () => {
    const server = await relay({ maxSubIdLength: 8 });
    const connected = await client(server);
    const long = await connected.req('x'.repeat(9), {});
    expect(long.end[0]).toBe('CLOSED');
    expect(String(long.end[2])).toMatch(/^invalid:/);
    connected.socket.send('not json');
    expect(String((await connected.waitFor((message) => message[0] === 'NOTICE'))[1])).toMatch(/^invalid:/);
  });
});

describe('test relay: NIP-42 AUTH', () => {
  it('refuses REQ with auth-required until the client authenticates', async () => {
    const server = await relay({ authRequired: true });
    server.addEvents(fixtures.slice(0, 3));
    const connected = await client(server);
    const [, challenge] = await connected.waitFor((message) => message[0] === 'AUTH');
    const before = await connected.req('s1', {});
    expect(before.end[0]).toBe('CLOSED');
    expect(String(before.end[2])).toMatch(/^auth-required:/);
    const auth = finalizeEvent(
      {
        kind: 22242,
        created_at: Math.floor(Date.now() / 1000),
        tags: [
          ['relay', server.url],
          ['challenge', String(challenge)],
        ],
        content: '',
      },
      hexToBytes(testSecretKey('auth', 0)),
    );
    connected.send(['AUTH', auth]);
    expect((await connected.waitFor((message) => message[0] === 'OK' && message[1] === auth.id))[2]).toBe(true);
    const after = await connected.req('s2', {});
    expect(after.end[0]).toBe('EOSE');
    expect(after.events.length).toBe(3);
  });
});

describe('test relay: misbehaviours', () => {
  it('ignores since/until and returns events outside the filter', async () => {
    const server = await relay({ misbehaviour: { ignoreSinceUntil: true } });
    server.addEvents(fixtures);
    const connected = await client(server);
    expect((await connected.req('w', { since: base + 5, until: base + 9 })).events.length).toBe(40);
    server.setBehaviour({ ignoreSinceUntil: false, outOfFilterEvents: 3 });
    const mixed = await connected.req('m', { kinds: [7] });
    expect(mixed.events.length).toBe(18);
    expect(mixed.events.filter((event) => (event as unknown as NostrEvent).kind !== 7).length).toBe(3);
  });

  it('sends bad signatures and bad ids, and duplicates', async () => {
    const server = await relay({ misbehaviour: { badSignatureEvery: 4, badIdEvery: 0 } });
    server.addEvents(fixtures);
    const connected = await client(server);
    const verifier = loadVerifier();
    const signed = (await connected.req('s', {})).events as unknown as NostrEvent[];
    expect(signed.filter((event) => !verifyEvent(event, verifier).ok).length).toBe(10);
    server.setBehaviour({ badSignatureEvery: 0, badIdEvery: 5, duplicateEvents: true });
    const doubled = (await connected.req('d', {})).events as unknown as NostrEvent[];
    expect(doubled.length).toBe(80);
    expect(doubled.filter((event) => verifyEvent(event, verifier).ok === false).length).toBe(16);
  });

  it('never sends EOSE, or sends it early', async () => {
    const server = await relay({ misbehaviour: { neverEose: true } });
    server.addEvents(fixtures);
    const connected = await client(server);
    connected.send(['REQ', 'n', {}]);
    await expect(connected.waitFor((message) => message[0] === 'EOSE', 300)).rejects.toThrow(/timed out/);
    server.setBehaviour({ neverEose: false, earlyEoseAfter: 5 });
    const early = await connected.req('e', {});
    expect(early.events.length).toBe(5);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(connected.messages.filter((message) => Array.isArray(message) && message[0] === 'EVENT' && message[1] === 'e').length).toBe(40);
  });

  it('drops the connection mid-stream and closes subscriptions mid-stream', async () => {
    const server = await relay({ misbehaviour: { closeSubscriptionAfter: 7 } });
    server.addEvents(fixtures);
    const connected = await client(server);
    const closed = await connected.req('c', {});
    expect(closed.end[0]).toBe('CLOSED');
    expect(closed.events.length).toBe(7);
    server.setBehaviour({ closeSubscriptionAfter: -1, dropAfterEvents: 12 });
    const dropped = new Promise((resolve) => connected.socket.once('close', resolve));
    connected.send(['REQ', 'd', {}]);
    await dropped;
    expect(connected.messages.filter((message) => Array.isArray(message) && message[0] === 'EVENT' && message[1] === 'd').length).toBe(12);
  });

  it('sends garbage frames before the answer', async () => {
    const server = await relay({ misbehaviour: { garbageFrames: true } });
    server.addEvents(fixtures.slice(0, 2));
    const connected = await client(server);
    const { events } = await connected.req('g', {});
    expect(events.length).toBe(2);
    expect(connected.messages.some((message) => Array.isArray(message) && message[0] === 'GARBAGE')).toBe(true);
    expect(connected.messages.some((message) => Array.isArray(message) && message[0] === 'BINARY')).toBe(true);
    expect(connected.messages.some((message) => !Array.isArray(message))).toBe(true);
  });

  it('answers slowly and rate-limits', async () => {
    const server = await relay({ misbehaviour: { delayMs: 150 } });
    const connected = await client(server);
    const started = Date.now();
    await connected.req('slow', {});
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    server.setBehaviour({ delayMs: 0, rateLimitPerSecond: 2 });
    const answers = [];
    for (const subId of ['r1', 'r2', 'r3']) answers.push((await connected.req(subId, {})).end);
    expect(answers.map((end) => end[0])).toEqual(['EOSE', 'EOSE', 'CLOSED']);
    expect(String(answers[2]?.[2])).toMatch(/^rate-limited:/);
  });

  it('refuses the upgrade or never completes the handshake', async () => {
    const server = await relay({ misbehaviour: { refuseUpgrade: true } });
    await expect(connectRaw(server.url)).rejects.toThrow(/503/);
    server.setBehaviour({ refuseUpgrade: false, hangHandshake: true });
    const socket = new WebSocket(server.url, { handshakeTimeout: 300 });
    const outcome = await new Promise((resolve) => {
      socket.once('open', () => resolve('open'));
      socket.once('error', (error) => resolve(error.message));
    });
    expect(String(outcome)).toMatch(/timeout|timed out/i);
  });
});

describe('test relay: scale and cleanup', () => {
  it('holds thousands of events in one second and serves them in limit-sized pages', async () => {
    const sameSecond = generateEvents({ count: 3_000, authors: 20, createdAt: base + 1_000, seed: 'crowd' });
    const server = await relay({ maxLimit: 500 });
    server.addEvents(sameSecond);
    const connected = await client(server);
    const page = await connected.req('p', { since: base + 1_000, until: base + 1_000, limit: 5_000 });
    expect(page.events.length).toBe(500);
    expect(page.events.map((event) => event.id)).toEqual(
      sameSecond
        .map((event) => event.id)
        .sort()
        .slice(0, 500),
    );
  });

  it('bulk-loads thousands of events at once keeping only the newest of each replaceable event, in NIP-01 order', async () => {
    const notes = generateEvents({ count: 1_500, authors: 10, createdAt: [base, base + 1_499], seed: 'bulk' });
    // Two versions of one author's relay list: only the newer one is kept, whichever comes first.
    const [older, newer] = [base + 10, base + 20].map(
      (createdAt) => generateEvents({ count: 1, kinds: [10002], createdAt, seed: 'bulk-list' })[0] as NostrEvent,
    );
    const server = await relay({ maxLimit: 5_000 });
    server.addEvents([newer as NostrEvent, ...notes, older as NostrEvent, notes[0] as NostrEvent]);
    expect(server.store.size).toBe(1_501);
    expect(server.store.has((older as NostrEvent).id)).toBe(false);
    const connected = await client(server);
    const page = await connected.req('all', { limit: 5_000 });
    expect(page.events.map((event) => event.id)).toEqual(
      [...notes, newer as NostrEvent].sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : 1)).map((event) => event.id),
    );
  });

  it('close() ends every connection and refuses new ones', async () => {
    const server = await startTestRelay();
    const connected = await connectRaw(server.url);
    const closed = new Promise((resolve) => connected.socket.once('close', resolve));
    await server.close();
    await closed;
    expect(server.connectionCount).toBe(0);
    await expect(connectRaw(server.url)).rejects.toThrow();
  });
});
