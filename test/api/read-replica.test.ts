/**
 * The read replica (`api.database_url`): `bigbrotr serve` and `bigbrotr run` send the REST API, the
 * statistics and the archive relay to it while the services write to `database.url`; `/readyz`
 * reports both; the embedded database refuses it, naming the option. The two-database part needs
 * two PostgreSQL databases (the embedded database cannot be a replica), so it runs on PostgreSQL runs
 * only; here the "replica" is a second database filled differently, which shows where answers come from.
 */
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createApiService } from '../../src/api/api-service.js';
import { startHttpServer } from '../../src/api/http-server.js';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig, type LoadedConfig } from '../../src/config/loader.js';
import { insertEventBatch } from '../../src/db/events.js';
import { openReadReplica } from '../../src/db/open.js';
import type { NostrEvent } from '../../src/nostr/event.js';
import { silentLogger } from '../../src/observability/logger.js';
import { runAll } from '../../src/run-all.js';
import { createTestDatabase, testDatabaseKind, type TestDatabase } from '../support/database.js';
import { generateEvents } from '../support/events.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** Everything but the HTTP server off, port chosen by the system. */
const QUIET = {
  'seed.on_start': false,
  'http.port': 0,
  'finder.enabled': false,
  'validator.enabled': false,
  'monitor.enabled': false,
  'sync.enabled': false,
  'maintenance.enabled': false,
  'api.rate_limit_per_minute': 0,
};

function load(env: Record<string, string>): LoadedConfig {
  return loadConfig({ env, overrides: QUIET });
}

describe('api.database_url with the embedded database', () => {
  it('is refused at load, naming the option, without showing the URL', () => {
    const secret = 'postgres://reader:hunter2hunter2hunter2@replica.example:5432/bigbrotr';
    let error: unknown;
    try {
      loadConfig({ env: { BIGBROTR_API__DATABASE_URL: secret } });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      { path: 'api.database_url', message: expect.stringContaining('needs a PostgreSQL primary in database.url') as string },
    ]);
    expect((error as ConfigError).message).toContain('(from env BIGBROTR_API__DATABASE_URL)');
    expect((error as ConfigError).message).not.toContain('hunter2');
  });

  it('is a secret of config show, and restart-only', () => {
    const loaded = loadConfig({
      env: {
        BIGBROTR_DATABASE_URL: 'postgres://a@127.0.0.1/x',
        BIGBROTR_API__DATABASE_URL: 'postgres://reader:hunter2hunter2hunter2@127.0.0.1/y',
      },
    });
    expect(loaded.secretPaths.has('api.database_url')).toBe(true);
    expect(loaded.config.api.database_url).toBe('postgres://reader:hunter2hunter2hunter2@127.0.0.1/y');
  });

  it('a weak password to a remote replica is refused naming api.database_url', async () => {
    const loaded = loadConfig({
      env: {
        BIGBROTR_DATABASE_URL: 'postgres://a@127.0.0.1/x',
        BIGBROTR_API__DATABASE_URL: 'postgres://reader:postgres@replica.example:5432/y',
      },
    });
    const refused = await openReadReplica(loaded.config).catch((caught: unknown) => caught);
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as ConfigError).problems[0]?.path).toBe('api.database_url');
    expect((refused as ConfigError).message).not.toContain('reader:postgres');
  });
});

interface Archive {
  test: TestDatabase;
  events: NostrEvent[];
}

async function archive(seed: string, count: number): Promise<Archive> {
  const test = await createTestDatabase({ poolSize: 3 });
  cleanups.push(test.dispose);
  const { rows } = await test.db.query<{ id: number }>(
    `INSERT INTO relay (url, network, state, discovered_from) VALUES ($1, 'clearnet', 'active', 'seed') RETURNING id`,
    [`wss://${seed}.example.com/`],
  );
  const events = generateEvents({ count, seed, kinds: [1] });
  await insertEventBatch(test.db, events, rows[0]?.id as number);
  return { test, events };
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The ids the archive relay sends for REQ {} before EOSE. */
async function relayIds(httpUrl: string): Promise<string[]> {
  const socket = new WebSocket(httpUrl.replace(/^http/, 'ws'));
  try {
    return await new Promise<string[]>((resolve, reject) => {
      const ids: string[] = [];
      socket.on('error', reject);
      socket.on('open', () => socket.send(JSON.stringify(['REQ', 'all', { limit: 100 }])));
      socket.on('message', (data: Buffer) => {
        const message = JSON.parse(data.toString()) as [string, string, { id: string }?];
        if (message[0] === 'EVENT' && message[2]) ids.push(message[2].id);
        if (message[0] === 'EOSE') resolve(ids);
        if (message[0] === 'CLOSED' || message[0] === 'NOTICE') reject(new Error(JSON.stringify(message)));
      });
    });
  } finally {
    socket.close();
  }
}

/** The API at `url` answers from the replica (ids and counts), never from the primary. */
async function expectAnswersFrom(url: string, replica: Archive, primary: Archive): Promise<void> {
  const sorted = (events: NostrEvent[]) => events.map((event) => event.id).sort();
  const page = await getJson(`${url}/v1/events?limit=100`);
  expect(page.status).toBe(200);
  expect((page.body.events as NostrEvent[]).map((event) => event.id).sort()).toEqual(sorted(replica.events));
  const stats = await getJson(`${url}/v1/stats`);
  expect(stats.body).toMatchObject({ unique_events: replica.events.length, event_relay_pairs: replica.events.length });
  const one = await getJson(`${url}/v1/events/${primary.events[0]?.id as string}`);
  expect(one.status).toBe(404);
  expect((await relayIds(url)).sort()).toEqual(sorted(replica.events));
  const ready = await getJson(`${url}/readyz`);
  expect(ready).toEqual({ status: 200, body: { status: 'ready', database: 'ok', replica: 'ok' } });
}

describe.runIf(testDatabaseKind === 'postgres')('api.database_url on PostgreSQL (a second database as the replica)', () => {
  it('bigbrotr serve: the API, stats and archive relay read from the replica; readiness reports both', async () => {
    const primary = await archive('primary', 3);
    const replica = await archive('replica', 5);
    const loaded = load({
      BIGBROTR_DATABASE_URL: primary.test.config.url as string,
      BIGBROTR_API__DATABASE_URL: replica.test.config.url as string,
    });
    const stop = new AbortController();
    let listening: (url: string) => void = () => undefined;
    const url = new Promise<string>((resolve) => {
      listening = resolve;
    });
    const service = createApiService({
      db: primary.test.db,
      config: () => loaded.config,
      logger: silentLogger(),
      onListening: (at) => listening(at),
    });
    const running = service.run(stop.signal);
    try {
      await expectAnswersFrom(await url, replica, primary);
      // Writes stay on the primary: it still holds its own events only.
      const { rows } = await primary.test.db.query<{ n: number }>('SELECT count(*) AS n FROM event');
      expect(Number(rows[0]?.n)).toBe(primary.events.length);
    } finally {
      stop.abort();
      await running;
    }
  });

  it('bigbrotr run: the services keep the primary, the API reads the replica; an unreachable replica fails start-up naming the option', async () => {
    const primary = await archive('run-primary', 2);
    const replica = await archive('run-replica', 4);
    const loaded = load({
      BIGBROTR_DATABASE_URL: primary.test.config.url as string,
      BIGBROTR_API__DATABASE_URL: replica.test.config.url as string,
    });
    const stop = new AbortController();
    let ready: (url: string) => void = () => undefined;
    const url = new Promise<string>((resolve) => {
      ready = resolve;
    });
    const running = runAll({ loaded, logger: silentLogger(), signal: stop.signal, onReady: ({ healthUrl }) => ready(healthUrl as string) });
    try {
      await expectAnswersFrom(await url, replica, primary);
    } finally {
      stop.abort();
      await running;
    }

    const missing = new URL(replica.test.config.url as string);
    missing.pathname = '/bigbrotr_no_such_replica';
    const broken = load({ BIGBROTR_DATABASE_URL: primary.test.config.url as string, BIGBROTR_API__DATABASE_URL: missing.toString() });
    await expect(runAll({ loaded: broken, logger: silentLogger() })).rejects.toThrow(/api\.database_url/);
  });
});

describe('readiness with a replica', () => {
  it('is 503 naming the replica when only the replica is down', async () => {
    let replicaUp = true;
    const server = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      registry: new Registry(),
      checkReady: () => Promise.resolve(),
      checkReplica: () => (replicaUp ? Promise.resolve() : Promise.reject(new Error('connection refused'))),
      readinessTimeoutMs: 500,
      logger: silentLogger(),
    });
    cleanups.push(() => server.close());
    expect(await getJson(`${server.url}/readyz`)).toEqual({ status: 200, body: { status: 'ready', database: 'ok', replica: 'ok' } });
    replicaUp = false;
    expect(await getJson(`${server.url}/readyz`)).toEqual({
      status: 503,
      body: { status: 'not ready', database: 'ok', replica: 'unreachable' },
    });
  });
});
