/**
 * `/metrics` (Prometheus text), `/healthz` (the process answers), `/readyz` (the database answers in
 * time; with a read replica, `api.database_url`, the replica too, each reported).
 */
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

export interface HealthOptions {
  registry: Registry;
  checkReady: () => Promise<void>;
  /** The read replica the API reads from (`api.database_url`), when there is one. */
  checkReplica?: (() => Promise<void>) | undefined;
  readinessTimeoutMs: number;
  logger: Logger;
}

type Reachability = 'ok' | 'unreachable';

export function registerHealthRoutes(app: FastifyInstance, options: HealthOptions): void {
  const hide = { schema: { hide: true } };
  const metrics = shared(() => options.registry.metrics());
  const probe = (check: () => Promise<void>, what: string): Promise<Reachability> =>
    withTimeout(check(), options.readinessTimeoutMs).then(
      () => 'ok' as const,
      (error: unknown) => {
        options.logger.warn({ err: error }, `readiness check failed: ${what} not reachable`);
        return 'unreachable' as const;
      },
    );
  const checkReplica = options.checkReplica;
  const ready = shared(async () => {
    const [database, replica] = await Promise.all([
      probe(options.checkReady, 'database'),
      checkReplica ? probe(checkReplica, 'read replica (api.database_url)') : undefined,
    ]);
    return { database, ...(replica === undefined ? {} : { replica }) };
  });
  app.get('/metrics', hide, async (_request, reply) =>
    reply
      .header('cache-control', 'no-store')
      .type(options.registry.contentType)
      .send(await metrics()),
  );
  app.get('/healthz', hide, async (_request, reply) => reply.header('cache-control', 'no-store').send({ status: 'ok' }));
  app.get('/readyz', hide, async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    const state = await ready();
    if (state.database === 'ok' && state.replica !== 'unreachable') return reply.send({ status: 'ready', ...state });
    return reply.code(503).send({ status: 'not ready', ...state });
  });
}
