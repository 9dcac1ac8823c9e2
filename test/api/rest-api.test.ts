/**
 * The REST API contract over a real archive: every endpoint, keyset pagination, every 400 naming its
 * parameter, SQL injection and oversized input, rate limits, the OpenAPI document, and NIP-11 on `/`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyEvent } from 'nostr-tools/pure';
import { nip19 } from 'nostr-tools';
import { loadConfig } from '../../src/config/loader.js';
import type { Config } from '../../src/config/schema.js';
import { insertEventBatch } from '../../src/db/events.js';
import { storeRelayChecks } from '../../src/db/relay-checks.js';
import { getOrCreateRelayIds } from '../../src/db/relays.js';
import type { NostrEvent } from '../../src/nostr/event.js';
import { silentLogger } from '../../src/observability/logger.js';
import { metricsRegistry } from '../../src/observability/metrics.js';
import { startHttpServer, type HttpServer } from '../../src/api/http-server.js';
import { ApiTimeoutError, readOnly } from '../../src/api/api-query.js';
import { createTestDatabase, testDatabaseKind, type TestDatabase } from '../support/database.js';
import { generateEvents } from '../support/events.js';

let test: TestDatabase;
let server: HttpServer;
let limited: HttpServer;
let events: NostrEvent[];
const RELAY_A = 'wss://relay-a.example/';
const RELAY_B = 'wss://relay-b.example/';
const now = Math.floor(Date.now() / 1000);

function config(overrides: Record<string, unknown> = {}): Config {
  return loadConfig({ env: {}, overrides }).config;
}

async function start(overrides: Record<string, unknown> = {}): Promise<HttpServer> {
  const current = config(overrides);
  return startHttpServer({
    host: '127.0.0.1',
    port: 0,
    registry: metricsRegistry(),
    checkReady: () => test.db.ping(),
    readinessTimeoutMs: 2_000,
    logger: silentLogger(),
    api: { db: test.db, config: () => current, version: 'test' },
  });
}

beforeAll(async () => {
  test = await createTestDatabase();
  const ids = await getOrCreateRelayIds(
    test.db,
    [
      { url: RELAY_A, network: 'clearnet' },
      { url: RELAY_B, network: 'clearnet' },
      { url: 'ws://hidden.onion/', network: 'tor' },
    ],
    'seed',
  );
  await test.db.query(`UPDATE relay SET state = 'active' WHERE url <> 'ws://hidden.onion/'`);
  const notes = generateEvents({
    count: 30,
    authors: 3,
    kinds: [1, 7],
    createdAt: [now - 5 * 86_400, now - 60],
    tags: [
      ['t', 'nostr'],
      ['p', 'a'.repeat(64)],
    ],
    seed: 'api-notes',
  });
  const others = generateEvents({ count: 10, authors: 2, kinds: [0, 3], createdAt: [now - 3 * 86_400, now - 120], seed: 'api-others' });
  events = [...notes, ...others];
  await insertEventBatch(test.db, events, ids.get(RELAY_A) as number);
  await insertEventBatch(test.db, notes.slice(0, 5), ids.get(RELAY_B) as number);
  const at = (hoursAgo: number) => new Date(Date.now() - hoursAgo * 3_600_000);
  for (const hoursAgo of [30, 20, 10, 1]) {
    await storeRelayChecks(test.db, ids.get(RELAY_A) as number, [
      { type: 'open', checkedAt: at(hoursAgo), ok: true, rttMs: 40 + hoursAgo },
      {
        type: 'nip11',
        checkedAt: at(hoursAgo),
        ok: true,
        rttMs: 20,
        document: { name: 'Relay A', software: 'git+https://github.com/hoytech/strfry.git', version: '1.0', supported_nips: [1, 11, 77] },
      },
      {
        type: 'geo',
        checkedAt: at(hoursAgo),
        ok: true,
        document: { country: 'DE', city: 'Berlin', geohash: 'u33dc0cpp' },
        detail: { ip: '192.0.2.1' },
      },
    ]);
  }
  await storeRelayChecks(test.db, ids.get(RELAY_B) as number, [
    { type: 'open', checkedAt: at(2), ok: false, reason: 'cannot connect: ECONNREFUSED' },
  ]);
  await test.db.query(`INSERT INTO sync_cursor (relay_id, scope, completed_until) VALUES ($1, 'all', $2)`, [ids.get(RELAY_A), now - 3_600]);
  server = await start();
  limited = await start({ 'api.rate_limit_per_minute': 3 });
}, 60_000);
afterAll(async () => {
  await server?.close();
  await limited?.close();
  await test?.dispose();
});

async function get(path: string, base = server.url): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const sorted = (list: NostrEvent[]) => [...list].sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? 1 : -1));

describe('GET /v1/events', () => {
  it('searches by author, kind, tag, time and relay, newest first, events exactly as signed', async () => {
    const author = events[0]?.pubkey as string;
    const { status, body } = await get(`/v1/events?authors=${author}&kinds=1`);
    expect(status).toBe(200);
    const expected = sorted(events.filter((event) => event.pubkey === author && event.kind === 1));
    expect((body.events as NostrEvent[]).map((event) => event.id)).toEqual(expected.map((event) => event.id));
    for (const event of body.events as NostrEvent[]) expect(verifyEvent({ ...event })).toBe(true);

    expect(((await get('/v1/events?%23t=nostr&limit=500')).body.events as unknown[]).length).toBe(30);
    expect(((await get('/v1/events?tag=t:nostr&tag=t:other&kinds=7')).body.events as unknown[]).length).toBe(15);
    expect(((await get(`/v1/events?%23p=${'a'.repeat(64)}&kinds=0,3`)).body.events as unknown[]).length).toBe(0);
    expect(((await get(`/v1/events?relay=${encodeURIComponent(RELAY_B)}`)).body.events as unknown[]).length).toBe(5);
    const since = now - 2 * 86_400;
    const windowed = (await get(`/v1/events?since=${since}&until=${now}&limit=500`)).body.events as NostrEvent[];
    expect(windowed.length).toBe(events.filter((event) => event.created_at >= since).length);
    // NIP-19 forms are accepted alongside hex.
    const npub = nip19.npubEncode(author);
    expect(((await get(`/v1/events?authors=${npub}&kinds=1`)).body.events as NostrEvent[]).map((event) => event.id)).toEqual(
      expected.map((event) => event.id),
    );
    expect(((await get(`/v1/events/${nip19.noteEncode(events[0]?.id as string)}`)).body.event as NostrEvent).id).toBe(events[0]?.id);
    expect((await get(`/v1/events?authors=${nip19.noteEncode(events[0]?.id as string)}`)).status).toBe(400); // a note is not an author
    const ids = events.slice(0, 3).map((event) => event.id);
    expect(((await get(`/v1/events?ids=${ids.join(',')}`)).body.events as unknown[]).length).toBe(3);
  });

  it('pages with a keyset cursor: every event once, in order, then no cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page += 1) {
      const { body } = await get(`/v1/events?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...(body.events as NostrEvent[]).map((event) => event.id));
      cursor = body.next_cursor as string | null;
      if (!cursor) break;
    }
    expect(seen).toEqual(sorted(events).map((event) => event.id));
    expect(cursor).toBeNull();
  });

  it('answers one event with the relays it was seen on, and 404 for an unknown id', async () => {
    const event = events[0] as NostrEvent;
    const { status, body } = await get(`/v1/events/${event.id}`);
    expect(status).toBe(200);
    expect(body.event).toEqual(event);
    expect((body.seen_on as { relay: string }[]).map((entry) => entry.relay).sort()).toEqual([RELAY_A, RELAY_B]);
    expect((await get(`/v1/events/${'0'.repeat(64)}`)).status).toBe(404);
  });

  it.each([
    ['/v1/events?ids=xyz', 'ids'],
    [`/v1/events?ids=${'A'.repeat(64)}`, 'ids'],
    ['/v1/events?authors=1234', 'authors'],
    ['/v1/events?kinds=70000', 'kinds'],
    ['/v1/events?kinds=-1', 'kinds'],
    ['/v1/events?kinds=one', 'kinds'],
    ['/v1/events?since=yesterday', 'since'],
    ['/v1/events?until=-5', 'until'],
    ['/v1/events?since=20&until=10', 'since'],
    ['/v1/events?limit=0', 'limit'],
    ['/v1/events?limit=501', 'limit'],
    ['/v1/events?limit=1e3', 'limit'],
    ['/v1/events?cursor=not%20a%20cursor', 'cursor'],
    ['/v1/events?cursor=YWJj', 'cursor'],
    ['/v1/events?relay=https://example.com/', 'relay'],
    ['/v1/events?tag=nope', 'tag'],
    ['/v1/events?%23tt=x', '#tt'],
    ['/v1/events?order=asc', 'order'],
    ['/v1/events/zz', 'id'],
    ['/v1/relays?status=sideways', 'status'],
    ['/v1/relays?nip=abc', 'nip'],
    ['/v1/relays?network=internet', 'network'],
    ['/v1/relays?cursor=-1', 'cursor'],
    ['/v1/relays?extra=1', 'extra'],
    ['/v1/relays/detail', 'url'],
    ['/v1/relays/detail?url=http://x', 'url'],
    ['/v1/relays/checks?url=wss://a.example/&type=bogus', 'type'],
    ['/v1/stats/events-per-day?days=0', 'days'],
    ['/v1/stats/events-per-day?basis=other', 'basis'],
    ['/v1/stats/kinds?limit=100000', 'limit'],
    ['/v1/stats/uptime?hours=999999', 'hours'],
  ])('%s is a 400 naming %s', async (path, parameter) => {
    const { status, body } = await get(path);
    expect(status, JSON.stringify(body)).toBe(400);
    expect(body.parameter).toBe(parameter);
    expect(body.message).toContain(parameter);
  });

  it('treats injection attempts and oversized input as data or as a 400, never as SQL', async () => {
    const tagInjection = await get(`/v1/events?%23t=${encodeURIComponent("nostr' OR '1'='1")}`);
    expect(tagInjection.status).toBe(200);
    expect(tagInjection.body.events).toEqual([]);
    const semicolon = await get(`/v1/events?tag=${encodeURIComponent("t:x'); DROP TABLE event; --")}`);
    expect(semicolon.status).toBe(200);
    expect((await get(`/v1/events?relay=${encodeURIComponent("wss://x.example/'||pg_sleep(5)||'")}`)).status).toBe(200);
    expect((await get(`/v1/events?kinds=${encodeURIComponent('1) OR (1=1')}`)).status).toBe(400);
    expect((await get(`/v1/relays/detail?url=${encodeURIComponent("wss://a.example/'; DELETE FROM relay; --")}`)).status).toBe(400); // not a relay URL
    expect((await get(`/v1/relays/detail?url=${encodeURIComponent("wss://a.example/';DELETE%20FROM%20relay;--")}`)).status).toBe(404); // a URL, and only a URL
    const { rows } = await test.db.query<{ n: string }>('SELECT count(*) AS n FROM event');
    expect(Number(rows[0]?.n)).toBe(events.length);

    expect((await get(`/v1/events?kinds=${Array.from({ length: 501 }, () => '1').join(',')}`)).status).toBe(400);
    expect((await fetch(`${server.url}/v1/events?ids=${Array.from({ length: 501 }, () => 'a'.repeat(64)).join(',')}`)).status).toBe(431); // past Node's 16 KiB header limit
    expect((await get(`/v1/events?%23t=${'x'.repeat(1_500)}`)).status).toBe(400);
    const hugeUrl = await fetch(`${server.url}/v1/events?tag=${'t:'.padEnd(100_000, 'y')}`);
    expect([400, 414, 431]).toContain(hugeUrl.status);
  });
});

describe('GET /v1/relays', () => {
  it('lists relays with their latest health, software and country, filtered and paged', async () => {
    const { body } = await get('/v1/relays');
    const relays = body.relays as {
      url: string;
      up: boolean | null;
      software: string | null;
      country: string | null;
      rtt_open_ms: number | null;
    }[];
    expect(relays.map((relay) => relay.url)).toEqual([RELAY_A, RELAY_B, 'ws://hidden.onion/']);
    expect(relays[0]).toMatchObject({ up: true, rtt_open_ms: 41, software: 'git+https://github.com/hoytech/strfry.git', country: 'DE' });
    expect(relays[1]).toMatchObject({ up: false });
    expect(relays[2]).toMatchObject({ up: null });
    expect(((await get('/v1/relays?status=up')).body.relays as unknown[]).length).toBe(1);
    expect(((await get('/v1/relays?status=unchecked')).body.relays as unknown[]).length).toBe(1);
    expect(((await get('/v1/relays?network=tor')).body.relays as { url: string }[]).map((relay) => relay.url)).toEqual([
      'ws://hidden.onion/',
    ]);
    expect(((await get('/v1/relays?nip=77')).body.relays as { url: string }[]).map((relay) => relay.url)).toEqual([RELAY_A]);
    expect(((await get('/v1/relays?state=active')).body.relays as unknown[]).length).toBe(2);
    const first = await get('/v1/relays?limit=2');
    expect(first.body.next_cursor).toBeTruthy();
    const second = await get(`/v1/relays?limit=2&cursor=${first.body.next_cursor as string}`);
    expect((second.body.relays as { url: string }[]).map((relay) => relay.url)).toEqual(['ws://hidden.onion/']);
    expect(second.body.next_cursor).toBeNull();
  });

  it('details one relay: NIP-11, latest checks, uptime, sync; and its check history', async () => {
    const { status, body } = await get(`/v1/relays/detail?url=${encodeURIComponent('wss://RELAY-A.example:443')}`);
    expect(status).toBe(200);
    expect(body.relay).toMatchObject({ url: RELAY_A, state: 'active', network: 'clearnet' });
    const checks = body.checks as Record<string, { ok: boolean; data: Record<string, unknown> }>;
    expect(checks.nip11?.data).toMatchObject({ name: 'Relay A' });
    expect(checks.geo?.data).toMatchObject({ country: 'DE' });
    expect(body.uptime).toMatchObject({ checks_30d: expect.anything() });
    expect(Number((body.uptime as Record<string, unknown>).availability_24h)).toBe(1);
    expect((body.sync as { lag_seconds: number }).lag_seconds).toBeGreaterThanOrEqual(3_600);
    expect((await get(`/v1/relays/detail?url=${encodeURIComponent('wss://unknown.example/')}`)).status).toBe(404);

    const history = await get(`/v1/relays/checks?url=${encodeURIComponent(RELAY_A)}&type=open&limit=3`);
    const rows = history.body.checks as { rtt_ms: number }[];
    expect(rows.map((row) => row.rtt_ms)).toEqual([41, 50, 60]);
    const rest = await get(
      `/v1/relays/checks?url=${encodeURIComponent(RELAY_A)}&type=open&limit=3&cursor=${history.body.next_cursor as string}`,
    );
    expect((rest.body.checks as { rtt_ms: number }[]).map((row) => row.rtt_ms)).toEqual([70]);
  });
});

describe('GET /v1/stats', () => {
  it('summarises the archive and the network', async () => {
    const summary = (await get('/v1/stats')).body;
    expect(summary).toMatchObject({ unique_events: 40, event_relay_pairs: 45, relays: 3, active_relays: 2, relays_up: 1, relays_down: 1 });
    const perDay = (await get('/v1/stats/events-per-day?days=7')).body.days as { events: number }[];
    expect(perDay.reduce((sum, day) => sum + day.events, 0)).toBe(40);
    const archived = (await get('/v1/stats/events-per-day?days=7&basis=archived')).body.days as { events: number }[];
    expect(archived.reduce((sum, day) => sum + day.events, 0)).toBe(40);
    expect((await get('/v1/stats/kinds')).body.kinds).toEqual([
      { kind: 1, events: 15 },
      { kind: 7, events: 15 },
      { kind: 0, events: 5 },
      { kind: 3, events: 5 },
    ]);
    const breakdown = (await get('/v1/stats/relays')).body as Record<string, { value: string; relays: number }[]>;
    expect(breakdown.software).toContainEqual({ value: 'hoytech/strfry', relays: 1 });
    expect(breakdown.countries).toContainEqual({ value: 'DE', relays: 1 });
    expect(breakdown.networks).toEqual([
      { value: 'clearnet', relays: 2 },
      { value: 'tor', relays: 1 },
    ]);
    const latency = (await get('/v1/stats/latency')).body.buckets as { le_ms: number | null; relays: number }[];
    expect(latency.find((bucket) => bucket.le_ms === 50)?.relays).toBe(1);
    const uptime = (await get('/v1/stats/uptime?hours=48')).body.hours as { up: number; down: number }[];
    expect(uptime.reduce((sum, hour) => sum + hour.up, 0)).toBe(4);
    expect(uptime.reduce((sum, hour) => sum + hour.down, 0)).toBe(1);
    const sync = (await get('/v1/stats/sync')).body.relays as { url: string; lag_seconds: number }[];
    expect(sync[0]?.url).toBe(RELAY_A);
  });
});

describe('the HTTP server around the API', () => {
  it('publishes an OpenAPI 3 document of every route and browsable docs', async () => {
    const document = (await get('/v1/openapi.json')).body as { openapi: string; paths: Record<string, unknown> };
    expect(document.openapi).toMatch(/^3\./);
    expect(Object.keys(document.paths).sort()).toEqual([
      '/v1/events',
      '/v1/events/{id}',
      '/v1/relays',
      '/v1/relays/checks',
      '/v1/relays/detail',
      '/v1/stats',
      '/v1/stats/events-per-day',
      '/v1/stats/kinds',
      '/v1/stats/latency',
      '/v1/stats/relays',
      '/v1/stats/sync',
      '/v1/stats/uptime',
    ]);
    const docs = await fetch(`${server.url}/v1/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');
  });

  it('answers NIP-11 clients on / with the archive document, browsers with the dashboard', async () => {
    const nip11 = await fetch(`${server.url}/`, { headers: { accept: 'application/nostr+json' } });
    expect(nip11.headers.get('content-type')).toContain('application/nostr+json');
    expect(await nip11.json()).toMatchObject({ name: 'bigbrotr archive', supported_nips: expect.arrayContaining([1, 11, 45]) });
    const page = await fetch(`${server.url}/`);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect((await fetch(`${server.url}/assets/chart.umd.min.js`)).status).toBe(200);
    expect((await fetch(`${server.url}/assets/..%2Fpackage.json`)).status).toBe(404);
  });

  it('limits requests per client and says when to come back', async () => {
    const statuses: number[] = [];
    for (let index = 0; index < 5; index += 1) statuses.push((await fetch(`${limited.url}/v1/stats`)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const refused = await fetch(`${limited.url}/v1/stats`);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await refused.json()) as { error: string }).error).toBe('rate limited');
    expect((await fetch(`${limited.url}/healthz`)).status).toBe(200); // health is never rate limited
  });

  it('runs API reads in read-only transactions', async () => {
    await expect(readOnly(test.db, 5_000, (tx) => tx.query(`DELETE FROM relay`))).rejects.toThrow(/read-only/);
    expect(Number((await test.db.query<{ n: string }>('SELECT count(*) AS n FROM relay')).rows[0]?.n)).toBe(3);
  });

  it.runIf(testDatabaseKind === 'postgres')(
    'cancels a query that runs past the statement timeout: ApiTimeoutError, a 503 over HTTP',
    async () => {
      await expect(readOnly(test.db, 50, (tx) => tx.query('SELECT pg_sleep(2)'))).rejects.toBeInstanceOf(ApiTimeoutError);
      // A history long enough that aggregating it takes more than 1 ms.
      await test.db.query(`INSERT INTO relay_check (relay_id, check_type, checked_at, ok, rtt_ms)
      SELECT r.id, 'open', now() - make_interval(secs => g), g % 3 = 0, g % 500 FROM relay r CROSS JOIN generate_series(1, 100000) AS g WHERE r.url = 'ws://hidden.onion/'`);
      const slow = await start({ 'api.statement_timeout_ms': 1, 'api.stats_cache_seconds': 0 });
      try {
        const response = await fetch(`${slow.url}/v1/stats/uptime?hours=48`);
        expect(response.status).toBe(503);
        expect(await response.json()).toEqual({ error: 'timeout', message: 'the archive did not answer in time; narrow the query' });
      } finally {
        await slow.close();
      }
    },
  );
});
