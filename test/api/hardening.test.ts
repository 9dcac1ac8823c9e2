/**
 * Attacks on `bigbrotr serve`, each of which got through once: a rate limit bypassed by
 * percent-encoding the path, overload answered 500 instead of 503, numbers in range for JSON but not
 * for the column, long nevents refused by the router, lax number syntax; and on the archive relay:
 * non-reading clients holding our memory, one address taking every slot, idle connections kept alive
 * by pongs, client input echoed back whole.
 */
import { nip19 } from 'nostr-tools';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config/loader.js';
import type { Config } from '../../src/config/schema.js';
import { insertEventBatch } from '../../src/db/events.js';
import { openDatabase } from '../../src/db/open.js';
import { getOrCreateRelayIds } from '../../src/db/relays.js';
import type { NostrEvent } from '../../src/nostr/event.js';
import { silentLogger } from '../../src/observability/logger.js';
import { metricsRegistry } from '../../src/observability/metrics.js';
import { startHttpServer, type HttpServer } from '../../src/api/http-server.js';
import { createScratchDatabase, createTestDatabase, testDatabaseKind, type TestDatabase } from '../support/database.js';
import { generateEvents } from '../support/events.js';

let test: TestDatabase;
let events: NostrEvent[];
const servers: HttpServer[] = [];

async function start(overrides: Record<string, unknown> = {}, db = test.db): Promise<HttpServer> {
  const current: Config = loadConfig({ env: {}, overrides }).config;
  const server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    registry: metricsRegistry(),
    checkReady: () => db.ping(),
    readinessTimeoutMs: 2_000,
    logger: silentLogger(),
    api: { db, config: () => current, version: 'test' },
  });
  servers.push(server);
  return server;
}

beforeAll(async () => {
  test = await createTestDatabase();
  const ids = await getOrCreateRelayIds(test.db, [{ url: 'wss://relay-a.example/', network: 'clearnet' }], 'seed');
  events = generateEvents({
    count: 20,
    authors: 2,
    kinds: [1],
    createdAt: [1_700_000_000, 1_700_000_100],
    contentSize: 200_000,
    seed: 'hardening',
  });
  await insertEventBatch(test.db, events, ids.get('wss://relay-a.example/') as number);
});
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await test?.dispose();
});

async function droppedClients(): Promise<number> {
  const metric = await metricsRegistry().getSingleMetric('bigbrotr_archive_relay_dropped_total')?.get();
  return metric?.values[0]?.value ?? 0;
}

async function status(base: string, path: string): Promise<number> {
  const response = await fetch(`${base}${path}`);
  await response.arrayBuffer();
  return response.status;
}

describe('REST API', () => {
  it('limits requests on the routed path: a percent-encoded /v1 is limited like /v1', async () => {
    const server = await start({ 'api.rate_limit_per_minute': 3 });
    const statuses: number[] = [];
    for (let request = 0; request < 6; request += 1) statuses.push(await status(server.url, '/%761/events?limit=1'));
    expect(statuses.slice(0, 3).every((code) => code === 200)).toBe(true);
    expect(statuses.slice(3)).toEqual([429, 429, 429]);
    expect(await status(server.url, '/v1/events?limit=1')).toBe(429);
  });

  it('refuses numbers the column cannot hold, and every lax number form, with a 400 naming the parameter', async () => {
    const server = await start();
    for (const path of [
      '/v1/relays?cursor=2147483648',
      '/v1/relays/checks?url=wss://relay-a.example/&since=9224318016000',
      '/v1/events?since=99999999999999999999',
    ]) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status, path).toBe(400);
      expect(((await response.json()) as { parameter: string }).parameter, path).toMatch(/cursor|since/);
    }
    for (const value of ['', '0x10', '1e3', '+5', '0b11', '-1', '1.5', ' 5', '٣']) {
      expect(await status(server.url, `/v1/events?until=${encodeURIComponent(value)}`), `until=${JSON.stringify(value)}`).toBe(400);
      expect(await status(server.url, `/v1/events?limit=${encodeURIComponent(value)}`), `limit=${JSON.stringify(value)}`).toBe(400);
    }
    expect(await status(server.url, '/v1/events?until=1700000050&limit=5')).toBe(200);
  });

  it('takes a long nevent in the path as in the query (the router allows what the schema allows)', async () => {
    const server = await start();
    const event = events[0] as NostrEvent;
    const nevent = nip19.neventEncode({
      id: event.id,
      relays: ['wss://relay-a.example/', 'wss://a-relay-with-a-rather-long-name.example/some/long/path/', 'wss://third.example/'],
      author: event.pubkey,
      kind: 1,
    });
    expect(nevent.length).toBeGreaterThan(200);
    const response = await fetch(`${server.url}/v1/events/${nevent}`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { event: NostrEvent }).event.id).toBe(event.id);
  });

  it.runIf(testDatabaseKind === 'postgres')('answers overload with 503 and Retry-After, never 500', async () => {
    // One pooled connection, a short wait for it, and a hundred heavy requests at once.
    const scratch = await createScratchDatabase();
    const db = await openDatabase({ ...test.config, url: test.config.url, pool_size: 1, connect_timeout_ms: 200 });
    try {
      const server = await start({}, db);
      const answers = await Promise.all(
        Array.from({ length: 100 }, () =>
          fetch(`${server.url}/v1/events?limit=20`).then(async (response) => ({
            status: response.status,
            retry: response.headers.get('retry-after'),
            body: await response.text(),
          })),
        ),
      );
      const codes = new Set(answers.map((answer) => answer.status));
      expect([...codes].every((code) => code === 200 || code === 503)).toBe(true);
      expect(codes.has(503)).toBe(true);
      for (const answer of answers.filter((candidate) => candidate.status === 503)) expect(answer.retry).toBe('1');
    } finally {
      await db.close();
      await scratch.dispose();
    }
  });
});

interface Peer {
  socket: WebSocket;
  closed: Promise<number>;
}

function connect(url: string): Promise<Peer | number> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url);
    const closed = new Promise<number>((done) => socket.once('close', (code) => done(code)));
    socket.once('open', () => resolve({ socket, closed }));
    socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
    socket.once('error', () => resolve(0));
  });
}

describe('archive relay', () => {
  it('refuses a connection past relay_max_connections_per_address with 429, and others still get in', async () => {
    const server = await start({ 'api.relay_max_connections_per_address': 5 });
    const url = server.url.replace(/^http/, 'ws');
    const peers = await Promise.all(Array.from({ length: 5 }, () => connect(url)));
    expect(peers.every((peer) => typeof peer !== 'number')).toBe(true);
    expect(await connect(url)).toBe(429);
    (peers[0] as Peer).socket.close();
    await (peers[0] as Peer).closed;
    await new Promise((resolve) => setTimeout(resolve, 50));
    const again = await connect(url);
    expect(typeof again).not.toBe('number');
    for (const peer of [...peers.slice(1), again]) (peer as Peer).socket.terminate();
  });

  it('never echoes more than a short prefix of client input', async () => {
    const server = await start();
    const peer = (await connect(server.url.replace(/^http/, 'ws'))) as Peer;
    const replies: string[] = [];
    peer.socket.on('message', (data) => replies.push(data.toString()));
    peer.socket.send(JSON.stringify(['EVENT', { id: 'x'.repeat(60_000) }]));
    peer.socket.send(JSON.stringify(['REQ', 'y'.repeat(60_000), {}]));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(replies).toHaveLength(2);
    for (const reply of replies) expect(reply.length).toBeLessThan(300);
    peer.socket.terminate();
  });

  it('closes connections that only answer pings', async () => {
    const server = await start({ 'api.relay_idle_seconds': 1 });
    const peer = (await connect(server.url.replace(/^http/, 'ws'))) as Peer;
    // ws answers pings with pongs on its own: this client is alive but says nothing.
    const code = await Promise.race([peer.closed, new Promise<string>((resolve) => setTimeout(() => resolve('still open'), 5_000))]);
    expect(code).not.toBe('still open');
  });

  it('holds 250 clients that never read under a bounded memory', async () => {
    const budget = 128 * 1024;
    const held = 16 * 1024 * 1024;
    const server = await start({
      'api.relay_max_connections_per_address': 300,
      'api.relay_send_budget_bytes': budget,
      'api.relay_held_bytes': held,
      'api.relay_send_timeout_seconds': 2,
      'api.relay_max_limit': 20,
    });
    const droppedBefore = await droppedClients();
    const url = server.url.replace(/^http/, 'ws');
    global.gc?.();
    const before = process.memoryUsage().rss;
    const peers: Peer[] = [];
    for (let index = 0; index < 250; index += 1) {
      const peer = (await connect(url)) as Peer;
      // Never read: pause the socket, then ask for 20 events of 200 kB (4 MB of replies) twice.
      (peer.socket as unknown as { _socket: { pause(): void } })._socket.pause();
      peer.socket.send(JSON.stringify(['REQ', 'a', { limit: 20 }]));
      peer.socket.send(JSON.stringify(['REQ', 'b', { limit: 20 }]));
      peers.push(peer);
    }
    let peak = 0;
    for (let sample = 0; sample < 30; sample += 1) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      peak = Math.max(peak, process.memoryUsage().rss - before);
    }
    // Each connection holds at most its budget plus one message (an event of 200 kB) in our buffer,
    // 250 × 328 kB = 82 MB, and the slow ones' unsent results together at most `held` (16 MiB); the
    // rest is the database's own memory (PGlite runs in this process) and the garbage of 2 GB of
    // query results not yet collected (peaks of 190–270 MB measured). Without the bounds this test
    // reached 1.6 GB.
    expect(peak).toBeLessThan(400 * 1024 * 1024);
    // Those whose replies did not fit in the kernel's socket buffers were dropped: past the held
    // bound at once, or after 2 s of reading nothing (how many fit depends on the kernel).
    expect((await droppedClients()) - droppedBefore).toBeGreaterThan(50);
    for (const peer of peers) peer.socket.terminate();
  });
});
