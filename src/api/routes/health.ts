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

export function registerHealthRoutes(app: FastifyInstance, options: { registry: Registry; checkReady: () => Promise<void>; readinessTimeoutMs: number; logger: Logger }): void {
  const hide = { schema: { hide: true } };
  app.get('/metrics', hide, async (_request, reply) => reply.header('cache-control', 'no-store').type(options.registry.contentType).send(await options.registry.metrics()));
  app.get('/healthz', hide, async (_request, reply) => reply.header('cache-control', 'no-store').send({ status: 'ok' }));
  app.get('/readyz', hide, async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    try {
      await withTimeout(options.checkReady(), options.readinessTimeoutMs);
      return reply.send({ status: 'ready', database: 'ok' });
    } catch (error) {
      options.logger.warn({ err: error }, 'readiness check failed: database not reachable');
      return reply.code(503).send({ status: 'not ready', database: 'unreachable' });
    }
  });
}
