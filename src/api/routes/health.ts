/** `/metrics` (Prometheus text), `/healthz` (the process answers), `/readyz` (the database answers in time). */
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from '../../observability/logger.js';

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/**
 * One computation at a time: callers arriving while one runs share its result, so a flood of
 * `/metrics` or `/readyz` requests costs one registry walk or one database ping at a time, while
 * each request after it finished sees the current state.
 */
function shared<T>(compute: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  return () => {
    running ??= compute().finally(() => {
      running = undefined;
    });
    return running;
  };
}

export function registerHealthRoutes(app: FastifyInstance, options: { registry: Registry; checkReady: () => Promise<void>; readinessTimeoutMs: number; logger: Logger }): void {
  const hide = { schema: { hide: true } };
  const metrics = shared(() => options.registry.metrics());
  const ready = shared(() => withTimeout(options.checkReady(), options.readinessTimeoutMs).then(() => true, (error: unknown) => {
    options.logger.warn({ err: error }, 'readiness check failed: database not reachable');
    return false;
  }));
  app.get('/metrics', hide, async (_request, reply) => reply.header('cache-control', 'no-store').type(options.registry.contentType).send(await metrics()));
  app.get('/healthz', hide, async (_request, reply) => reply.header('cache-control', 'no-store').send({ status: 'ok' }));
  app.get('/readyz', hide, async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    if (await ready()) return reply.send({ status: 'ready', database: 'ok' });
    return reply.code(503).send({ status: 'not ready', database: 'unreachable' });
  });
}
