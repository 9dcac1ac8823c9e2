import { afterEach, describe, expect, it } from 'vitest';
import { Counter, Registry } from 'prom-client';
import { startHttpServer, type HttpServer } from '../../src/api/http-server.js';
import { silentLogger } from '../../src/observability/logger.js';

let server: HttpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(checkReady: () => Promise<void>, readinessTimeoutMs = 500): Promise<HttpServer> {
  const registry = new Registry();
  new Counter({ name: 'bigbrotr_test_total', help: 'test counter', registers: [registry] }).inc(3);
  server = await startHttpServer({ host: '127.0.0.1', port: 0, registry, checkReady, readinessTimeoutMs, logger: silentLogger() });
  return server;
}

describe('health server', () => {
  it('serves metrics in Prometheus format and liveness', async () => {
    const { url } = await start(async () => {});
    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(await metrics.text()).toContain('bigbrotr_test_total 3');
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect((await fetch(`${url}/nope`)).status).toBe(404);
    expect((await fetch(`${url}/healthz`, { method: 'POST' })).status).toBe(405);
  });

  it('readiness follows the database check, including a check that hangs', async () => {
    let ready = true;
    const { url } = await start(() => (ready ? Promise.resolve() : Promise.reject(new Error('connection refused'))));
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    ready = false;
    const down = await fetch(`${url}/readyz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ status: 'not ready', database: 'unreachable' });
    await server?.close();
    const hanging = await start(() => new Promise<void>(() => {}), 100);
    const started = Date.now();
    expect((await fetch(`${hanging.url}/readyz`)).status).toBe(503);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
