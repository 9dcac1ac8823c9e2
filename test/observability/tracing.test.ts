/**
 * OpenTelemetry tracing end to end: a real local OTLP/HTTP receiver (JSON, as the exporter sends),
 * a relay sync pass against the test relay and an API request, then shutdown (flush) and the spans
 * the receiver got. Off by default: then nothing reaches the receiver.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { context, propagation, trace } from '@opentelemetry/api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer } from '../../src/api/http-server.js';
import { loadConfig } from '../../src/config/loader.js';
import { redactedConfig } from '../../src/config/show.js';
import type { Config } from '../../src/config/schema.js';
import { getOrCreateRelayIds } from '../../src/db/relays.js';
import { silentLogger } from '../../src/observability/logger.js';
import { metricsRegistry } from '../../src/observability/metrics.js';
import { parseOtlpHeaders, shutdownTracing, startTracing, tracer, urlAttribute } from '../../src/observability/tracing.js';
import { syncRelayWithRetries } from '../../src/services/sync/pass-runner.js';
import { createVerifyPool, type VerifyPool } from '../../src/verify/pool.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { generateEvents } from '../support/events.js';
import { startTestRelay, type TestRelay } from '../support/relay/server.js';

const SECRET_TOKEN = 's3cr3t-collector-token-81f2';
const QUERY_MARKER = 'kinds=1';

type AttributeValue = string | number | boolean | undefined;
interface ReceivedSpan {
  name: string;
  attributes: Record<string, AttributeValue>;
  status: { code?: number; message?: string };
  resource: Record<string, AttributeValue>;
  scope: string;
}
interface OtlpKeyValue {
  key: string;
  value: { stringValue?: string; intValue?: number | string; doubleValue?: number; boolValue?: boolean };
}
interface OtlpRequest {
  resourceSpans?: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: {
      scope?: { name?: string };
      spans?: { name: string; attributes?: OtlpKeyValue[]; status?: { code?: number; message?: string } }[];
    }[];
  }[];
}

/** A minimal OTLP/HTTP traces receiver: collects what is POSTed to /v1/traces. */
interface Receiver {
  endpoint: string;
  requests: { headers: IncomingHttpHeaders; body: string }[];
  spans(): ReceivedSpan[];
  close(): Promise<void>;
}

function decodeAttributes(list: OtlpKeyValue[] | undefined): Record<string, AttributeValue> {
  const attributes: Record<string, AttributeValue> = {};
  for (const { key, value } of list ?? []) {
    attributes[key] =
      value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : undefined) ?? value.doubleValue ?? value.boolValue;
  }
  return attributes;
}

async function startReceiver(): Promise<Receiver> {
  const requests: Receiver['requests'] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method === 'POST' && request.url === '/v1/traces') {
        requests.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } else {
        response.writeHead(404).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}/v1/traces`,
    requests,
    spans: () =>
      requests.flatMap(({ body }) =>
        ((JSON.parse(body) as OtlpRequest).resourceSpans ?? []).flatMap((resourceSpans) =>
          (resourceSpans.scopeSpans ?? []).flatMap((scopeSpans) =>
            (scopeSpans.spans ?? []).map((span) => ({
              name: span.name,
              attributes: decodeAttributes(span.attributes),
              status: span.status ?? {},
              resource: decodeAttributes(resourceSpans.resource?.attributes),
              scope: scopeSpans.scope?.name ?? '',
            })),
          ),
        ),
      ),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function configWith(overrides: Record<string, unknown> = {}): Config {
  return loadConfig({
    env: {},
    overrides: {
      'relay.connect_timeout_ms': 2_000,
      'relay.idle_timeout_ms': 2_000,
      'sync.retry_attempts': 0,
      'sync.negentropy_timeout_ms': 3_000,
      ...overrides,
    },
  }).config;
}

function tracedConfig(receiver: Receiver, overrides: Record<string, unknown> = {}): Config {
  return configWith({
    'tracing.enabled': true,
    'tracing.endpoint': receiver.endpoint,
    'tracing.service_name': 'bigbrotr-test',
    'tracing.headers': `authorization=Bearer%20${SECRET_TOKEN},x-scope-orgid=tenant-1`,
    ...overrides,
  });
}

const now = 1_700_010_000;
let pool: VerifyPool;
let receiver: Receiver;
const relays: TestRelay[] = [];
/** One archive for every test (each test syncs its own relay). */
let database: TestDatabase;

beforeAll(async () => {
  pool = await createVerifyPool({ workers: 1, batchSize: 100 });
  database = await createTestDatabase();
}, 60_000);
afterEach(async () => {
  await shutdownTracing();
  trace.disable();
  context.disable();
  propagation.disable();
  await receiver?.close();
});
afterAll(async () => {
  await pool?.close();
  await Promise.all(relays.map((relay) => relay.close()));
  await database?.dispose();
});

/** A test relay holding `count` events, known to the archive. */
async function setup(count: number, seed: string) {
  const relay = await startTestRelay({ keepAllVersions: true });
  relays.push(relay);
  relay.addEvents(generateEvents({ count, authors: 3, kinds: [1, 7], createdAt: [now - 9_000, now - 100], seed }));
  const ids = await getOrCreateRelayIds(database.db, [{ url: relay.url, network: 'clearnet' }], 'test');
  return { relay, db: database.db, target: { id: ids.get(relay.url) as number, url: relay.url } };
}

/** One sync pass, one traced API request with a query string, and two untraced health requests. */
async function exercise(setupResult: Awaited<ReturnType<typeof setup>>, config: Config) {
  const { db, target } = setupResult;
  const result = await syncRelayWithRetries({ db, relay: target, config, pool, logger: silentLogger(), clock: () => now * 1000 });
  const server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    registry: metricsRegistry(),
    checkReady: () => db.ping(),
    readinessTimeoutMs: 2_000,
    logger: silentLogger(),
    api: { db, config: () => config, version: 'test' },
  });
  try {
    const response = await fetch(`${server.url}/v1/events?${QUERY_MARKER}&limit=5`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { events: unknown[] }).events).toHaveLength(5);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(200);
  } finally {
    await server.close();
  }
  return result;
}

describe('tracing', () => {
  it('is off by default', () => {
    const { tracing } = loadConfig({ env: {} }).config;
    expect(tracing).toEqual({
      enabled: false,
      exporter: 'otlp-http',
      endpoint: 'http://127.0.0.1:4318/v1/traces',
      service_name: 'bigbrotr',
      sample_ratio: 1,
    });
  });

  it('exports a sync.relay span per relay pass and an http.request span per API request over OTLP/HTTP, on shutdown', async () => {
    receiver = await startReceiver();
    const setupResult = await setup(40, 'tracing-on');
    const config = tracedConfig(receiver);
    const tracing = startTracing(config.tracing, silentLogger());
    expect(startTracing(config.tracing, silentLogger())).toBe(tracing); // once per process

    const result = await exercise(setupResult, config);
    expect(result.stored).toBe(40);
    // A pass that fails: nothing listens on this port.
    const closed = await startReceiver();
    const closedUrl = closed.endpoint.replace(/^http:\/\/([^/]+)\/.*$/, 'ws://$1/');
    await closed.close();
    const [closedId] = (await getOrCreateRelayIds(setupResult.db, [{ url: closedUrl, network: 'clearnet' }], 'test')).values();
    await expect(
      syncRelayWithRetries({
        db: setupResult.db,
        relay: { id: closedId as number, url: closedUrl },
        config,
        pool,
        logger: silentLogger(),
        clock: () => now * 1000,
      }),
    ).rejects.toThrow();

    await tracing.shutdown();
    const spans = receiver.spans();

    const syncSpans = spans.filter((span) => span.name === 'sync.relay');
    expect(syncSpans).toHaveLength(2);
    const ok = syncSpans.find((span) => span.attributes['nostr.relay.url'] === setupResult.relay.url);
    expect(ok?.attributes).toMatchObject({
      'bigbrotr.sync.method': 'negentropy',
      'bigbrotr.sync.events_stored': 40,
      'bigbrotr.sync.attempts': 1,
      'bigbrotr.sync.complete': true,
    });
    expect(ok?.status.code ?? 0).toBe(0);
    const failed = syncSpans.find((span) => span.attributes['nostr.relay.url'] === closedUrl);
    expect(failed?.status.code).toBe(2); // ERROR
    expect(failed?.status.message).toMatch(/ECONNREFUSED|refused|connect/i);
    expect(failed?.attributes['error.type']).toBe('network');

    const httpSpans = spans.filter((span) => span.name === 'http.request');
    expect(httpSpans).toHaveLength(1); // /healthz and /metrics are not traced
    expect(httpSpans[0]?.attributes).toEqual({
      'http.request.method': 'GET',
      'url.path': '/v1/events',
      'http.route': '/v1/events',
      'http.response.status_code': 200,
    });

    for (const span of spans) {
      expect(span.resource['service.name']).toBe('bigbrotr-test');
      expect(span.scope).toBe('bigbrotr');
      for (const value of Object.values(span.attributes)) {
        expect(String(value)).not.toContain(SECRET_TOKEN);
        expect(String(value)).not.toContain('?');
        expect(String(value)).not.toContain(QUERY_MARKER);
      }
    }
    // The secret is a header of the export request, never part of what is exported.
    expect(receiver.requests.length).toBeGreaterThan(0);
    for (const request of receiver.requests) {
      expect(request.headers.authorization).toBe(`Bearer ${SECRET_TOKEN}`);
      expect(request.headers['x-scope-orgid']).toBe('tenant-1');
      expect(request.headers['content-type']).toMatch(/application\/json/);
      expect(request.body).not.toContain(SECRET_TOKEN);
    }
  }, 60_000);

  it('when disabled, nothing is recorded and no request reaches the receiver', async () => {
    receiver = await startReceiver();
    const setupResult = await setup(10, 'tracing-off');
    const config = configWith({ 'tracing.endpoint': receiver.endpoint });
    expect(config.tracing.enabled).toBe(false);
    const tracing = startTracing(config.tracing, silentLogger());
    expect(tracer().startSpan('probe').isRecording()).toBe(false);
    const result = await exercise(setupResult, config);
    expect(result.stored).toBe(10);
    await tracing.shutdown();
    await shutdownTracing();
    await sleep(200);
    expect(receiver.requests).toHaveLength(0);
  }, 60_000);

  it('sample_ratio 0 records no span', async () => {
    receiver = await startReceiver();
    const tracing = startTracing(tracedConfig(receiver, { 'tracing.sample_ratio': 0 }).tracing, silentLogger());
    const span = tracer().startSpan('probe');
    expect(span.isRecording()).toBe(false);
    span.end();
    await tracing.shutdown();
    expect(receiver.requests).toHaveLength(0);
  });

  it('the console exporter writes one redacted JSON line per span (not on stdout)', async () => {
    receiver = await startReceiver();
    const lines: string[] = [];
    const tracing = startTracing(tracedConfig(receiver, { 'tracing.exporter': 'console' }).tracing, silentLogger(), {
      consoleDestination: { write: (line: string) => lines.push(line) },
    });
    const span = tracer().startSpan('probe', { attributes: { note: `leaked ${SECRET_TOKEN}` } });
    span.end();
    await tracing.shutdown();
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0] as string) as { span: string; service: string; attributes: Record<string, string>; traceId: string };
    expect(line).toMatchObject({ span: 'probe', service: 'bigbrotr-test' });
    expect(line.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(lines[0]).not.toContain(SECRET_TOKEN); // headers are registered secrets: scrubbed even if something leaks them
    expect(receiver.requests).toHaveLength(0);
  });
});

describe('tracing settings', () => {
  it('headers are a secret: validated without echoing, redacted by config show, parsed with percent-decoding', () => {
    const loaded = loadConfig({ env: { BIGBROTR_TRACING__HEADERS: `authorization=Bearer%20${SECRET_TOKEN}` } });
    expect(loaded.secretPaths.has('tracing.headers')).toBe(true);
    expect(loaded.secretValues).toContain(`authorization=Bearer%20${SECRET_TOKEN}`);
    expect(JSON.stringify(redactedConfig(loaded))).not.toContain(SECRET_TOKEN);
    expect(() => loadConfig({ env: { BIGBROTR_TRACING__HEADERS: `no-equals-${SECRET_TOKEN}` } })).toThrow(
      /tracing\.headers: invalid value \(secret, not shown\)/,
    );
    try {
      loadConfig({ env: { BIGBROTR_TRACING__HEADERS: `no-equals-${SECRET_TOKEN}` } });
    } catch (error) {
      expect(String(error)).not.toContain(SECRET_TOKEN);
    }
    expect(parseOtlpHeaders('authorization=Bearer%20abc, x-scope-orgid = t1,broken,=x')).toEqual({
      authorization: 'Bearer abc',
      'x-scope-orgid': 't1',
    });
  });

  it('validates exporter, endpoint and sample_ratio', () => {
    expect(() => loadConfig({ env: { BIGBROTR_TRACING__SAMPLE_RATIO: '1.5' } })).toThrow(/tracing\.sample_ratio/);
    expect(() => loadConfig({ env: { BIGBROTR_TRACING__EXPORTER: 'zipkin' } })).toThrow(/tracing\.exporter/);
    expect(() => loadConfig({ env: { BIGBROTR_TRACING__ENDPOINT: 'ftp://collector/v1/traces' } })).toThrow(/tracing\.endpoint/);
    expect(loadConfig({ env: { BIGBROTR_TRACING__SAMPLE_RATIO: '0.25', BIGBROTR_TRACING__ENABLED: 'true' } }).config.tracing).toMatchObject(
      { enabled: true, sample_ratio: 0.25 },
    );
  });

  it('URL attributes keep scheme, host and path only', () => {
    expect(urlAttribute('wss://user:pw@relay.example/path?token=abc#x')).toBe('wss://relay.example/path');
  });
});
