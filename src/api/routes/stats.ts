/**
 * Network statistics (`/v1/stats…`): archive size, events per day and per kind, relays by software,
 * country, network and state, latency distribution, relays up/down per hour, sync lag per relay.
 * Aggregates over the whole archive are cached for `api.stats_cache_seconds`.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Queryable } from '../../db/database.js';
import {
  archiveSummary,
  eventsPerDay,
  latencyDistribution,
  relayBreakdown,
  syncProgress,
  topKinds,
  uptimeHistory,
} from '../../db/network-stats.js';
import { readOnly } from '../api-query.js';
import { jsonRow } from '../json.js';
import { decimalInteger } from '../../zod-numbers.js';
import { errorSchema } from '../schemas.js';
import { zodRoutes, type RouteOptions, type ZodRoutes } from './route-context.js';

const boundedInt = (min: number, max: number, fallback: number) =>
  decimalInteger(min, max, `expected an integer from ${min} to ${max}`).default(fallback);

type Cached = <T>(key: string, compute: (tx: Queryable) => Promise<T>) => Promise<T>;

const anyObject = { 200: z.record(z.string(), z.unknown()), 400: errorSchema, 503: errorSchema };

export function registerStatsRoutes(app: FastifyInstance, options: RouteOptions): void {
  const routes = zodRoutes(app);
  const cached = statsCache(options);
  routes.get('/v1/stats', { schema: { summary: 'Archive and network summary', tags: ['stats'], response: anyObject } }, async () =>
    cached('summary', archiveSummary),
  );
  registerEventStats(routes, cached);
  registerRelayStats(routes, cached);
}

/** Aggregates over the whole archive, each kept for `api.stats_cache_seconds` under its own key. */
function statsCache(options: RouteOptions): Cached {
  const cache = new Map<string, { at: number; value: unknown }>();
  return async <T>(key: string, compute: (tx: Queryable) => Promise<T>): Promise<T> => {
    const config = options.config();
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < config.api.stats_cache_seconds * 1000) return hit.value as T;
    const value = await readOnly(options.db, config.api.statement_timeout_ms, compute);
    if (cache.size > 1_000) cache.clear();
    cache.set(key, { at: Date.now(), value });
    return value;
  };
}

function registerEventStats(routes: ZodRoutes, cached: Cached): void {
  routes.get(
    '/v1/stats/events-per-day',
    {
      schema: {
        summary: 'Events per UTC day',
        tags: ['stats'],
        querystring: z
          .object({
            days: boundedInt(1, 366, 30),
            basis: z.enum(['created', 'archived']).default('created').describe('by created_at, or by when bigbrotr archived them'),
          })
          .strict(),
        response: anyObject,
      },
    },
    async (request) => ({
      days: await cached(`per-day:${request.query.days}:${request.query.basis}`, (tx) =>
        eventsPerDay(tx, request.query.days, request.query.basis),
      ),
    }),
  );

  routes.get(
    '/v1/stats/kinds',
    {
      schema: {
        summary: 'Events per kind, most common first',
        tags: ['stats'],
        querystring: z.object({ limit: boundedInt(1, 200, 20) }).strict(),
        response: anyObject,
      },
    },
    async (request) => ({ kinds: await cached(`kinds:${request.query.limit}`, (tx) => topKinds(tx, request.query.limit)) }),
  );
}

function registerRelayStats(routes: ZodRoutes, cached: Cached): void {
  routes.get(
    '/v1/stats/relays',
    {
      schema: {
        summary: 'Relays by software, country, network and state',
        tags: ['stats'],
        querystring: z.object({ limit: boundedInt(1, 200, 20) }).strict(),
        response: anyObject,
      },
    },
    async (request) => cached(`relays:${request.query.limit}`, (tx) => relayBreakdown(tx, request.query.limit)),
  );

  routes.get(
    '/v1/stats/latency',
    { schema: { summary: 'Latest open round trips of relays that are up, bucketed', tags: ['stats'], response: anyObject } },
    async () => ({ buckets: await cached('latency', latencyDistribution) }),
  );

  routes.get(
    '/v1/stats/uptime',
    {
      schema: {
        summary: 'Relays up and down per hour',
        tags: ['stats'],
        querystring: z.object({ hours: boundedInt(1, 24 * 90, 24 * 7) }).strict(),
        response: anyObject,
      },
    },
    async (request) => ({ hours: await cached(`uptime:${request.query.hours}`, (tx) => uptimeHistory(tx, request.query.hours)) }),
  );

  routes.get(
    '/v1/stats/sync',
    {
      schema: {
        summary: 'Sync progress and lag per relay, most behind first',
        tags: ['stats'],
        querystring: z.object({ limit: boundedInt(1, 1000, 100) }).strict(),
        response: anyObject,
      },
    },
    async (request) => ({
      relays: (await cached(`sync:${request.query.limit}`, (tx) => syncProgress(tx, request.query.limit))).map(jsonRow),
    }),
  );
}
