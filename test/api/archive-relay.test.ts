/**
 * The archive relay end to end: a migrated database (PGlite, or PostgreSQL with
 * BIGBROTR_DATABASE_URL) holding real signed events, a real HTTP server with the relay attached, real
 * WebSocket clients (raw `ws`, and bigbrotr's own NIP-01 client).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { verifyEvent } from 'nostr-tools/pure';
import type { Counter } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { archiveNip11Document, attachArchiveRelay, type ArchiveRelay } from '../../src/api/archive-relay.js';
import { loadConfig } from '../../src/config/loader.js';
import type { Config } from '../../src/config/schema.js';
import { insertEventBatch } from '../../src/db/events.js';
import { getOrCreateRelayIds } from '../../src/db/relays.js';
import type { NostrEvent } from '../../src/nostr/event.js';
import { getPublicKey, signEvent } from '../../src/nostr/sign.js';
import { silentLogger } from '../../src/observability/logger.js';
import { metricsRegistry } from '../../src/observability/metrics.js';
import { RelayConnection } from '../../src/relay/connection.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { generateEvents, testSecretKey } from '../support/events.js';

const T = 1_700_000_000;
const keys = { alice: testSecretKey('archive-relay', 0), bob: testSecretKey('archive-relay', 1), carol: testSecretKey('archive-relay', 2) };
const alice = getPublicKey(keys.alice);
const bob = getPublicKey(keys.bob);

const a1 = signEvent(
  {
    kind: 1,
    created_at: T + 10,
    tags: [
      ['t', 'nostr'],
      ['p', bob],
    ],
    content: 'hello from alice',
  },
  keys.alice,
);
const a2 = signEvent(
  {
    kind: 7,
    created_at: T + 20,
    tags: [
      ['e', a1.id],
      ['p', bob],
    ],
    content: '+',
  },
  keys.alice,
);
const b1 = signEvent({ kind: 1, created_at: T + 30, tags: [['t', 'bitcoin']], content: 'hello from bob' }, keys.bob);
const b2 = signEvent(
  {
    kind: 30023,
    created_at: T + 40,
    tags: [
      ['d', 'article'],
      ['t', 'nostr'],
    ],
    content: '# an article',
  },
  keys.bob,
);
const c1 = signEvent({ kind: 0, created_at: T + 50, tags: [], content: '{"name":"carol"}' }, keys.carol);
const bulk = generateEvents({ count: 25, authors: 3, kinds: [1], createdAt: [T + 100, T + 124], seed: 'archive-relay-bulk' });
/** Large events for the backpressure test (12 MiB in all, kind 9999 so that no other query sees them). */
const heavy = generateEvents({
  count: 48,
  authors: 1,
  kinds: [9999],
  createdAt: [T + 200, T + 247],
  contentSize: 256 * 1024,
  seed: 'archive-relay-heavy',
});
/**
 * What JSON and PostgreSQL text make hard (kind 9997, an author of its own: no other query sees them):
 * escapes, control characters, unicode and emoji; U+0000 and lone surrogates, which text columns
 * cannot hold (the event keeps them in raw_json).
 */
const dave = testSecretKey('archive-relay', 3);
const tricky = [
  signEvent(
    {
      kind: 9997,
      created_at: T + 300,
      tags: [
        ['t', 'τίτλος 🧡'],
        ['alt', '"quoted" \\ back\\slash\t\u0001\u001f\u007f \u2028\u2029 </script>'],
      ],
      content: '"quotes" \\ backslash\n newline\r\t tab \b\f \u0001\u001f\u007f é 中文 🤙🏽 \u2028 \\u0041 {"json":[1]}',
    },
    dave,
  ),
  signEvent(
    {
      kind: 9997,
      created_at: T + 301,
      tags: [
        ['t', 'nul\u0000tag'],
        ['e', 'x'],
      ],
      content: 'nul \u0000 in content',
    },
    dave,
  ),
  signEvent(
    { kind: 9997, created_at: T + 302, tags: [['alt', '\ud800']], content: 'lone high \ud83d and lone low \udc00 surrogates' },
    dave,
  ),
  signEvent({ kind: 9997, created_at: T + 303, tags: [], content: '' }, dave),
  signEvent(
    {
      kind: 9997,
      created_at: T + 304,
      tags: [[], ['empty', ''], ['many', ...Array.from({ length: 20 }, (_, index) => `v${index}`)]],
      content: ' ',
    },
    dave,
  ),
];
/** Events of several kilobytes of multi-byte text, so that one answer spans several buffers of frames (kind 9996). */
const wide = Array.from({ length: 40 }, (_, index) =>
  signEvent(
    {
      kind: 9996,
      created_at: T + 400 + Math.floor(index / 2),
      tags: [['t', `wide ${index} ✓`]],
      content: `${index} ${'é🤙中'.repeat(700)}`,
    },
    testSecretKey('archive-relay-wide', index % 2),
  ),
);
const stored = [a1, a2, b1, b2, c1, ...bulk, ...heavy, ...tricky, ...wide];
const byId = new Map(stored.map((event) => [event.id, event]));

const base = loadConfig({ env: {} }).config;
function configWith(api: Partial<Config['api']>): Config {
  return { ...base, api: { ...base.api, ...api } };
}
const config = configWith({
  relay_max_connections: 3,
  relay_max_subscriptions: 3,
  relay_max_filters: 3,
  relay_max_filter_values: 5,
  relay_max_limit: 10,
  relay_max_message_bytes: 4096,
});

/** A raw WebSocket client that reads the relay's messages in order. */
class TestClient {
  private readonly queue: unknown[][] = [];
  private readonly waiters: ((message: unknown[]) => void)[] = [];
  readonly closed: Promise<number>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as unknown[];
      const waiter = this.waiters.shift();
      if (waiter) waiter(message);
      else this.queue.push(message);
    });
    this.closed = new Promise((resolve) => socket.once('close', (code) => resolve(code)));
  }

  static open(url: string): Promise<TestClient> {
    const socket = new WebSocket(url);
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new TestClient(socket)));
      socket.once('error', reject);
    });
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  next(timeoutMs = 5_000): Promise<unknown[]> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error('timed out waiting for a relay message'));
      }, timeoutMs);
      const waiter = (message: unknown[]) => {
        clearTimeout(timer);
        resolve(message);
      };
      this.waiters.push(waiter);
    });
  }

  /** Sends a message and returns the relay's next one. */
  async ask(message: unknown): Promise<unknown[]> {
    this.send(message);
    return this.next();
  }

  /** REQ, then the EVENTs up to EOSE or CLOSED (which is `end`). */
  async req(subId: string, ...filters: unknown[]): Promise<{ events: NostrEvent[]; end: unknown[] }> {
    this.send(['REQ', subId, ...filters]);
    const events: NostrEvent[] = [];
    for (;;) {
      const message = await this.next();
      if (message[0] === 'EVENT' && message[1] === subId) events.push(message[2] as NostrEvent);
      else if ((message[0] === 'EOSE' || message[0] === 'CLOSED') && message[1] === subId) return { events, end: message };
      else throw new Error(`unexpected message ${JSON.stringify(message).slice(0, 200)}`);
    }
  }

  /** The ids a REQ returns (it must end with EOSE); the subscription is closed afterwards. */
  async ids(subId: string, ...filters: unknown[]): Promise<string[]> {
    const { events, end } = await this.req(subId, ...filters);
    expect(end).toEqual(['EOSE', subId]);
    this.send(['CLOSE', subId]);
    return events.map((event) => event.id);
  }

  async close(): Promise<void> {
    this.socket.close();
    await this.closed;
  }
}

/** Ids newest first, as the archive orders them. */
function newestFirst(...events: NostrEvent[]): string[] {
  return [...events].sort((x, y) => y.created_at - x.created_at || (y.id < x.id ? -1 : 1)).map((event) => event.id);
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

/** An HTTP server on 127.0.0.1 with the archive relay attached, and how to stop both. */
async function serveArchiveRelay(
  db: TestDatabase['db'],
  relayConfig: Config,
): Promise<{ relay: ArchiveRelay; url: string; close(): Promise<void> }> {
  const server = createServer((_request, response) => response.writeHead(404).end());
  const relay = attachArchiveRelay(server, { db, config: relayConfig, logger: silentLogger() });
  const url = await listen(server);
  return {
    relay,
    url,
    close: async () => {
      await relay.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function waitUntil(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function eventsSent(): Promise<number> {
  const counter = metricsRegistry().getSingleMetric('bigbrotr_archive_relay_events_sent_total') as Counter | undefined;
  return (await counter?.get())?.values[0]?.value ?? 0;
}

describe('archive relay', () => {
  let database: TestDatabase;
  let server: Server;
  let relay: ArchiveRelay;
  let url: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const relayIds = await getOrCreateRelayIds(database.db, [{ url: 'wss://source.example/', network: 'clearnet' }], 'seed');
    await insertEventBatch(database.db, stored, relayIds.get('wss://source.example/') as number, { batchSize: 20 });
    server = createServer((_request, response) => response.writeHead(404).end());
    // Whoever owns the server answers upgrades on other paths (the relay leaves them alone).
    server.on('upgrade', (request: IncomingMessage, socket: Duplex) => {
      if (request.url !== '/') socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    relay = attachArchiveRelay(server, { db: database.db, config, logger: silentLogger() });
    url = await listen(server);
  });

  afterAll(async () => {
    await relay?.close();
    await new Promise((resolve) => server?.close(resolve));
    await database?.dispose();
  });

  it('answers REQ by ids, authors, kinds, since/until and tags, newest first, then EOSE', async () => {
    const client = await TestClient.open(url);
    expect(await client.ids('ids', { ids: [a1.id, c1.id] })).toEqual([c1.id, a1.id]);
    expect(await client.ids('authors', { authors: [alice] })).toEqual([a2.id, a1.id]);
    expect(await client.ids('kinds', { kinds: [30023, 0] })).toEqual([c1.id, b2.id]);
    expect(await client.ids('range', { since: T + 20, until: T + 40 })).toEqual([b2.id, b1.id, a2.id]);
    expect(await client.ids('e', { '#e': [a1.id] })).toEqual([a2.id]);
    expect(await client.ids('p', { '#p': [bob] })).toEqual([a2.id, a1.id]);
    expect(await client.ids('t', { '#t': ['nostr'], until: T + 100 })).toEqual([b2.id, a1.id]);
    expect(await client.ids('combined', { authors: [alice, bob], kinds: [1], '#t': ['nostr', 'bitcoin'] })).toEqual([b1.id, a1.id]);
    expect(await client.ids('none', { ids: [] })).toEqual([]);
    // Several filters: the union, each event once.
    expect(await client.ids('union', { authors: [alice] }, { kinds: [1], authors: [alice, bob] }, { ids: [a1.id] })).toEqual([
      b1.id,
      a2.id,
      a1.id,
    ]);
    await client.close();
  });

  it('applies the limit and caps it at relay_max_limit', async () => {
    const client = await TestClient.open(url);
    const all = newestFirst(a1, a2, b1, b2, c1, ...bulk);
    expect(await client.ids('three', { kinds: [0, 1, 7, 30023], limit: 3 })).toEqual(all.slice(0, 3));
    expect(await client.ids('capped', { kinds: [0, 1, 7, 30023], limit: 1_000 })).toEqual(all.slice(0, 10));
    expect(await client.ids('default', { kinds: [0, 1, 7, 30023] })).toEqual(all.slice(0, 10));
    expect(await client.ids('zero', { kinds: [1], limit: 0 })).toEqual([]);
    // Several filters: the largest of their limits, capped.
    expect(await client.ids('largest', { authors: [alice], limit: 1 }, { kinds: [1], until: T + 50, limit: 2 })).toEqual([b1.id, a2.id]);
    await client.close();
  });

  it('returns exactly the stored events, with valid ids and signatures', async () => {
    const client = await TestClient.open(url);
    const { events, end } = await client.req(
      'exact',
      { ids: [a1.id, a2.id, b1.id, b2.id, c1.id] },
      { ids: bulk.slice(0, 5).map((event) => event.id) },
    );
    expect(end[0]).toBe('EOSE');
    expect(events).toHaveLength(10);
    for (const event of events) {
      expect(event).toEqual(byId.get(event.id));
      expect(verifyEvent({ ...event })).toBe(true);
    }
    await client.close();
  });

  it('serves hard text exactly as signed: escapes, control characters, emoji, U+0000 and lone surrogates (raw_json)', async () => {
    const client = await TestClient.open(url);
    const texts: string[] = [];
    client.socket.on('message', (data) => texts.push(data.toString()));
    const { events, end } = await client.req('tricky', { kinds: [9997] });
    expect(end).toEqual(['EOSE', 'tricky']);
    expect(events.map((event) => event.id)).toEqual(newestFirst(...tricky));
    for (const event of events) {
      expect(event).toEqual(byId.get(event.id));
      expect(verifyEvent({ ...event })).toBe(true);
    }
    // Each message is one NIP-01 EVENT in valid JSON (JSON.parse above), in well-formed UTF-8.
    for (const text of texts.slice(0, -1)) expect(text.startsWith('["EVENT","tricky",{')).toBe(true);
    await client.close();
  });

  it('sends a long answer as several buffers of frames, in order, with the subscription id escaped', async () => {
    const wideRelay = await serveArchiveRelay(database.db, configWith({ relay_max_limit: 100 }));
    const client = await TestClient.open(wideRelay.url);
    const before = await eventsSent();
    const subId = 'wide "\\ é 🤙';
    const { events, end } = await client.req(subId, { kinds: [9996] });
    expect(end).toEqual(['EOSE', subId]);
    expect(events.map((event) => event.id)).toEqual(newestFirst(...wide));
    for (const event of events) {
      expect(event).toEqual(byId.get(event.id));
      expect(verifyEvent({ ...event })).toBe(true);
    }
    expect((await eventsSent()) - before).toBe(wide.length);
    // Over 64 KiB of frames in all: more than one buffer.
    expect(wide.reduce((bytes, event) => bytes + Buffer.byteLength(JSON.stringify(event)), 0)).toBeGreaterThan(3 * 64 * 1024);
    await client.close();
    await wideRelay.close();
  });

  it('answers COUNT (NIP-45) and speaks NIP-01 to bigbrotr’s own client', async () => {
    const client = await TestClient.open(url);
    expect(await client.ask(['COUNT', 'c1', { kinds: [1] }])).toEqual(['COUNT', 'c1', { count: 27 }]);
    expect(await client.ask(['COUNT', 'c2', { authors: [alice] }, { authors: [bob] }, { ids: [a1.id] }])).toEqual([
      'COUNT',
      'c2',
      { count: 4 },
    ]);
    expect(await client.ask(['COUNT', 'c3', { ids: ['0'.repeat(64)] }])).toEqual(['COUNT', 'c3', { count: 0 }]);
    expect(await client.ask(['COUNT', 'c4', { foo: 1 }])).toEqual(['CLOSED', 'c4', 'invalid: unknown filter field foo']);
    await client.close();

    const connection = await RelayConnection.open({ url, config: base.relay });
    const seen: unknown[] = [];
    const end = await connection.subscribe([{ authors: [bob] }], { onEvent: (event) => seen.push(event) });
    expect(end).toEqual({ reason: 'eose' });
    expect(seen).toEqual([b2, b1]);
    expect(await connection.count([{ '#t': ['nostr'] }])).toBe(2);
    expect(await connection.publish(c1)).toEqual({ accepted: false, message: 'blocked: this is a read-only archive' });
    connection.close();
  });

  it('refuses EVENT, AUTH and negentropy', async () => {
    const client = await TestClient.open(url);
    expect(await client.ask(['EVENT', a1])).toEqual(['OK', a1.id, false, 'blocked: this is a read-only archive']);
    expect(await client.ask(['EVENT', 'not an event'])).toEqual(['OK', '', false, 'blocked: this is a read-only archive']);
    expect(await client.ask(['EVENT'])).toEqual(['OK', '', false, 'blocked: this is a read-only archive']);
    expect(await client.ask(['AUTH', { kind: 22242 }])).toEqual(['NOTICE', 'unsupported: AUTH is not needed here']);
    const negOpen = await client.ask(['NEG-OPEN', 'n', {}, '61']);
    expect(negOpen[0]).toBe('NOTICE');
    expect(negOpen[1]).toMatch(/^unsupported: /);
    await client.close();
  });

  it('keeps subscriptions open until CLOSE, up to relay_max_subscriptions', async () => {
    const client = await TestClient.open(url);
    for (const subId of ['s1', 's2', 's3']) expect((await client.req(subId, { kinds: [0] })).end).toEqual(['EOSE', subId]);
    expect(await client.req('s4', { kinds: [0] })).toEqual({
      events: [],
      end: ['CLOSED', 's4', 'blocked: too many subscriptions (max 3)'],
    });
    // A REQ with an open subscription's id replaces it.
    expect(await client.req('s2', { authors: [alice] })).toEqual({ events: [a2, a1], end: ['EOSE', 's2'] });
    client.send(['CLOSE', 's1']);
    client.send(['CLOSE', 'never-opened']);
    expect(await client.req('s4', { kinds: [0] })).toEqual({ events: [c1], end: ['EOSE', 's4'] });
    expect((await client.req('s5', { kinds: [0] })).end).toEqual(['CLOSED', 's5', 'blocked: too many subscriptions (max 3)']);
    await client.close();
  });

  it('answers every invalid message with CLOSED or NOTICE, and keeps the connection', async () => {
    const client = await TestClient.open(url);
    const closed = async (filters: unknown[], reason: string | RegExp) => {
      const { events, end } = await client.req('bad', ...filters);
      expect(events).toEqual([]);
      expect(end.slice(0, 2)).toEqual(['CLOSED', 'bad']);
      if (typeof reason === 'string') expect(end[2]).toBe(reason);
      else expect(end[2]).toMatch(reason);
    };
    const hex = (n: number) => Array.from({ length: n }, (_, index) => index.toString(16).padStart(64, '0'));
    await closed([{ ids: [a1.id.toUpperCase()] }], 'invalid: ids must be 64 lowercase hex characters');
    await closed([{ ids: [a1.id.slice(0, 10)] }], 'invalid: ids must be 64 lowercase hex characters');
    await closed([{ authors: [42] }], 'invalid: authors must be 64 lowercase hex characters');
    await closed([{ authors: alice }], 'invalid: authors must be an array');
    await closed([{ kinds: [-1] }], 'invalid: kinds must be integers from 0 to 65535');
    await closed([{ kinds: [65_536] }], 'invalid: kinds must be integers from 0 to 65535');
    await closed([{ kinds: [1.5] }], 'invalid: kinds must be integers from 0 to 65535');
    await closed([{ since: -1 }], /^invalid: since /);
    await closed([{ until: '1700000000' }], /^invalid: until /);
    await closed([{ since: 2 ** 60 }], /^invalid: since /);
    await closed([{ limit: -5 }], /^invalid: limit /);
    await closed([{ '#t': [1] }], /^invalid: #t /);
    await closed([{ '#t': 'nostr' }], /^invalid: #t /);
    await closed([{}, {}, {}, {}], 'invalid: too many filters (max 3)');
    await closed([], /^invalid: /);
    await closed(['not a filter'], 'invalid: a filter must be a JSON object');
    await closed([null], 'invalid: a filter must be a JSON object');
    await closed([[]], 'invalid: a filter must be a JSON object');
    await closed([{ ids: hex(6) }], 'invalid: too many ids (max 5)');
    await closed([{ kinds: [1, 2, 3, 4, 5, 6] }], 'invalid: too many kinds (max 5)');
    await closed([{ '#p': hex(6) }], /^invalid: too many #p /);
    await closed([{ foo: 1 }], 'invalid: unknown filter field foo');
    await closed([{ '#ab': ['x'] }], 'invalid: unknown filter field #ab');
    await closed([{ '#1': ['x'] }], 'invalid: unknown filter field #1');
    expect(await client.ask('["REQ","bad",{"__proto__":{"kinds":1}}]')).toEqual([
      'CLOSED',
      'bad',
      'invalid: unknown filter field __proto__',
    ]);
    await closed([{ kinds: [1], search: 'nostr' }], 'unsupported: search is not supported');
    // Invalid COUNTs too.
    expect(await client.ask(['COUNT', 'bad', { ids: ['x'] }])).toEqual([
      'CLOSED',
      'bad',
      'invalid: ids must be 64 lowercase hex characters',
    ]);
    expect(await client.ask(['COUNT', 'bad', { search: 'x' }])).toEqual(['CLOSED', 'bad', 'unsupported: search is not supported']);
    // Subscription ids.
    expect(await client.ask(['REQ', '', {}])).toEqual(['CLOSED', '', 'invalid: the subscription id must have 1 to 64 characters']);
    // A too-long id is echoed as its first 64 characters, never whole (64 KB of it would be echoed back otherwise).
    expect(await client.ask(['REQ', 'x'.repeat(65), {}])).toEqual([
      'CLOSED',
      'x'.repeat(64),
      'invalid: the subscription id must have 1 to 64 characters',
    ]);
    expect(await client.ids('x'.repeat(64), { ids: [a1.id] })).toEqual([a1.id]);
    const notice = async (message: unknown, reason: RegExp) => {
      const answer = await client.ask(message);
      expect(answer[0]).toBe('NOTICE');
      expect(answer[1]).toMatch(reason);
    };
    await notice(['REQ', 7, {}], /^invalid: /);
    await notice(['REQ'], /^invalid: /);
    await notice(['CLOSE', null], /^invalid: /);
    await notice('this is not json', /^invalid: /);
    await notice('{"REQ": "sub"}', /^invalid: /);
    await notice('[]', /^invalid: /);
    await notice('[1, 2]', /^invalid: /);
    await notice('"REQ"', /^invalid: /);
    await notice(['HELLO'], /^invalid: /);
    client.socket.send(Buffer.from('["REQ","bin",{}]'), { binary: true });
    const binary = await client.next();
    expect(binary[0]).toBe('NOTICE');
    expect(binary[1]).toMatch(/^invalid: /);
    // Still usable afterwards.
    expect(await client.ids('after', { ids: [b1.id] })).toEqual([b1.id]);
    await client.close();
  });

  it('closes a connection that sends an oversized message', async () => {
    const client = await TestClient.open(url);
    client.send(['REQ', 'big', { '#t': ['x'.repeat(5_000)] }]);
    expect(await client.closed).toBe(1009);
    await waitUntil(() => relay.connections === 0);
    const next = await TestClient.open(url);
    expect(await next.ids('ok', { ids: [c1.id] })).toEqual([c1.id]);
    await next.close();
  });

  it('refuses connections beyond relay_max_connections with HTTP 503', async () => {
    await waitUntil(() => relay.connections === 0);
    const open = await Promise.all([TestClient.open(url), TestClient.open(url), TestClient.open(url)]);
    expect(relay.connections).toBe(3);
    const refused = new WebSocket(url);
    refused.on('error', () => {});
    const status = await new Promise<number | undefined>((resolve) => {
      refused.once('unexpected-response', (_request, response) => resolve(response.statusCode));
      refused.once('open', () => resolve(undefined));
    });
    refused.terminate();
    expect(status).toBe(503);
    await Promise.all(open.map((client) => client.close()));
    await waitUntil(() => relay.connections === 0);
    const again = await TestClient.open(url);
    expect(await again.ids('again', { ids: [b2.id] })).toEqual([b2.id]);
    await again.close();
  });

  it('leaves other upgrade paths alone', async () => {
    const other = new WebSocket(url.replace(/\/$/, '/elsewhere'));
    other.on('error', () => {});
    const outcome = await new Promise<number | string>((resolve) => {
      other.once('open', () => resolve('open'));
      other.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 'no status'));
    });
    other.terminate();
    expect(outcome).toBe(404);
    expect(relay.connections).toBe(0);
  });

  it('sends with backpressure and stops a subscription on CLOSE', async () => {
    const heavyServer = createServer();
    const heavyRelay = attachArchiveRelay(heavyServer, {
      db: database.db,
      config: configWith({ relay_max_limit: 100 }),
      logger: silentLogger(),
    });
    const heavyUrl = await listen(heavyServer);
    const client = await TestClient.open(heavyUrl);
    const before = await eventsSent();
    // A client that does not read: the relay must stop after about the socket buffers plus 1 MiB.
    client.socket.pause();
    client.send(['REQ', 'heavy', { kinds: [9999] }]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const sentWhilePaused = (await eventsSent()) - before;
    expect(sentWhilePaused).toBeGreaterThan(0);
    expect(sentWhilePaused).toBeLessThan(heavy.length);
    client.send(['CLOSE', 'heavy']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    client.socket.resume();
    // Requests of a connection run in order: once this one is answered, the heavy one has ended.
    client.send(['REQ', 'after', { kinds: [9999], limit: 0 }]);
    let received = 0;
    for (;;) {
      const message = await client.next();
      if (message[0] === 'EVENT' && message[1] === 'heavy') received += 1;
      else {
        expect(message).toEqual(['EOSE', 'after']);
        break;
      }
    }
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThan(heavy.length);
    expect((await eventsSent()) - before).toBe(received);
    await client.close();
    await heavyRelay.close();
    await new Promise((resolve) => heavyServer.close(resolve));
  });

  it('answers CLOSED error: when the archive cannot answer', async () => {
    const broken = await createTestDatabase();
    const brokenServer = createServer();
    const brokenRelay = attachArchiveRelay(brokenServer, { db: broken.db, config, logger: silentLogger() });
    const brokenUrl = await listen(brokenServer);
    const client = await TestClient.open(brokenUrl);
    expect(await client.ids('fine', { kinds: [1] })).toEqual([]);
    await broken.dispose();
    const { end } = await client.req('fails', { kinds: [1] });
    expect(end.slice(0, 2)).toEqual(['CLOSED', 'fails']);
    expect(end[2]).toMatch(/^error: the archive could not answer \(.+\)$/);
    expect(String(end[2])).not.toMatch(/postgres|password|select/i);
    const count = await client.ask(['COUNT', 'count-fails', {}]);
    expect(count.slice(0, 2)).toEqual(['CLOSED', 'count-fails']);
    expect(count[2]).toMatch(/^error: the archive could not answer/);
    await client.close();
    await brokenRelay.close();
    await new Promise((resolve) => brokenServer.close(resolve));
  });

  it('close() terminates every client socket and detaches from the server', async () => {
    const closingServer = createServer();
    const closingRelay = attachArchiveRelay(closingServer, { db: database.db, config, logger: silentLogger() });
    const closingUrl = await listen(closingServer);
    const clients = await Promise.all([TestClient.open(closingUrl), TestClient.open(closingUrl)]);
    expect((await clients[0]?.req('open', { kinds: [0] }))?.end).toEqual(['EOSE', 'open']);
    expect(closingRelay.connections).toBe(2);
    expect(closingServer.listenerCount('upgrade')).toBe(1);
    await closingRelay.close();
    expect(closingRelay.connections).toBe(0);
    expect(closingServer.listenerCount('upgrade')).toBe(0);
    await Promise.all(clients.map((client) => client.closed));
    for (const client of clients) expect(client.socket.readyState).toBe(WebSocket.CLOSED);
    // The HTTP server has no connection left over either.
    const connections = await new Promise<number>((resolve, reject) =>
      closingServer.getConnections((error, count) => (error ? reject(error) : resolve(count))),
    );
    expect(connections).toBe(0);
    await new Promise((resolve) => closingServer.close(resolve));
  });

  it('builds a NIP-11 document', () => {
    expect(archiveNip11Document(config, '1.2.3')).toEqual({
      name: 'bigbrotr archive',
      description: expect.any(String),
      software: 'bigbrotr',
      version: '1.2.3',
      supported_nips: [1, 11, 45],
      limitation: {
        max_message_length: 4096,
        max_subscriptions: 3,
        max_limit: 10,
        default_limit: 10,
        max_subid_length: 64,
        auth_required: false,
        payment_required: false,
        restricted_writes: true,
      },
    });
  });
});

describe('archive relay: live events after EOSE', () => {
  let database: TestDatabase;
  let served: Awaited<ReturnType<typeof serveArchiveRelay>>;
  let url: string;
  let sourceId: number;
  const live = (kind: number, createdAt: number, key = keys.alice, tags: string[][] = []) =>
    signEvent({ kind, created_at: createdAt, tags, content: `live ${kind} ${createdAt}` }, key);

  beforeAll(async () => {
    database = await createTestDatabase();
    sourceId = (await getOrCreateRelayIds(database.db, [{ url: 'wss://source.example/', network: 'clearnet' }], 'seed')).get(
      'wss://source.example/',
    ) as number;
    await insertEventBatch(database.db, [a1, b1], sourceId);
    served = await serveArchiveRelay(database.db, configWith({ relay_live_poll_ms: 100, relay_live_lag_ms: 0, relay_live_batch: 3 }));
    url = served.url;
  });
  afterAll(async () => {
    await served?.close();
    await database?.dispose();
  });

  it('streams newly archived events that match the filters, only those, until CLOSE', async () => {
    const client = await TestClient.open(url);
    const first = await client.req('feed', { kinds: [1], authors: [alice] }, { '#t': ['live'] });
    expect(first.end).toEqual(['EOSE', 'feed']);
    expect(first.events.map((event) => event.id)).toEqual([a1.id]);

    const matching = [live(1, T + 1_000), live(5, T + 1_001, keys.bob, [['t', 'live']]), live(1, T + 1_002)];
    const other = [live(7, T + 1_003), live(1, T + 1_004, keys.bob)];
    // More than relay_live_batch (3) at once: the tail reads on until it has them all.
    await insertEventBatch(database.db, [...other, ...matching], sourceId);
    const received: string[] = [];
    while (received.length < matching.length) {
      const message = await client.next(3_000);
      expect(message[0]).toBe('EVENT');
      expect(message[1]).toBe('feed');
      received.push((message[2] as NostrEvent).id);
    }
    expect(received.sort()).toEqual(matching.map((event) => event.id).sort());

    client.send(['CLOSE', 'feed']);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await insertEventBatch(database.db, [live(1, T + 1_010)], sourceId);
    await expect(client.next(600)).rejects.toThrow(/timed out/);
    await client.close();
  });

  it('a subscriber joining while the feed runs gets what was archived since its REQ, once', async () => {
    const early = await TestClient.open(url);
    await early.req('early', { kinds: [1] });
    const late = await TestClient.open(url);
    const answered = await late.req('late', { kinds: [1], authors: [bob] });
    expect(answered.end).toEqual(['EOSE', 'late']);
    const fresh = live(1, T + 2_000, keys.bob);
    await insertEventBatch(database.db, [fresh], sourceId);
    expect((await late.next(3_000))[2]).toEqual(fresh);
    expect((await early.next(3_000))[2]).toEqual(fresh);
    await expect(late.next(400)).rejects.toThrow(/timed out/); // not twice
    await Promise.all([early.close(), late.close()]);
  });

  it('a subscriber whose first answer took long is caught up on what the running feed passed meanwhile', async () => {
    const running = await TestClient.open(url);
    await running.req('running', { kinds: [1] });
    // A first answer of about 6 MB that the client does not read yet: the relay waits on it, while
    // the feed (kept running by the other subscriber) reads on past where this subscription starts.
    const big = Array.from({ length: 12 }, (_, index) =>
      signEvent({ kind: 9_000, created_at: T + 4_000 + index, tags: [], content: 'x'.repeat(500_000) }, keys.carol),
    );
    await insertEventBatch(database.db, big, sourceId);
    const slow = await TestClient.open(url);
    slow.socket.pause();
    slow.send(['REQ', 'slow', { kinds: [9_000] }]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const meanwhile = signEvent(
      { kind: 9_000, created_at: T + 3_999, tags: [], content: 'archived while the first answer waited' },
      keys.carol,
    );
    const unrelated = live(1, T + 4_100);
    await insertEventBatch(database.db, [meanwhile, unrelated], sourceId);
    expect((await running.next(3_000))[2]).toEqual(unrelated); // the feed has read past both
    slow.socket.resume();
    const answer = await (async () => {
      const events: NostrEvent[] = [];
      for (;;) {
        const message = await slow.next(5_000);
        if (message[0] === 'EOSE') return events;
        events.push(message[2] as NostrEvent);
      }
    })();
    expect(answer.map((event) => event.id).sort()).toEqual(big.map((event) => event.id).sort());
    expect((await slow.next(3_000))[2]).toEqual(meanwhile);
    await expect(slow.next(400)).rejects.toThrow(/timed out/);
    await expect(running.next(100)).rejects.toThrow(/timed out/); // and the feed did not go back over what it had sent
    await Promise.all([running.close(), slow.close()]);
  });

  it('with relay_live_poll_ms 0, nothing follows EOSE, and the NIP-11 document says so', async () => {
    const quietConfig = configWith({ relay_live_poll_ms: 0 });
    const quiet = await serveArchiveRelay(database.db, quietConfig);
    const quietUrl = quiet.url;
    try {
      const client = await TestClient.open(quietUrl);
      expect((await client.req('q', { kinds: [1] })).end).toEqual(['EOSE', 'q']);
      await insertEventBatch(database.db, [live(1, T + 3_000)], sourceId);
      await expect(client.next(800)).rejects.toThrow(/timed out/);
      await client.close();
      expect(archiveNip11Document(quietConfig, '1').description).toMatch(/Nothing is streamed after EOSE/);
      expect(archiveNip11Document(configWith({}), '1').description).toMatch(/streams newly archived events/);
    } finally {
      await quiet.close();
    }
  });
});
