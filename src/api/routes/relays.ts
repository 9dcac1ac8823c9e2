/**
 * `GET /v1/relays`: relays with their latest health, software and country, filtered by network,
 * state, up/down and supported NIP, paged by id. `GET /v1/relays/detail`: one relay's latest NIP-11
 * and checks, uptime, latency, sync position and circuit-breaker state. `GET /v1/relays/checks`: its
 * check history, newest first.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { checkHistory, listRelaySummaries, relayDetail } from '../../db/relay-queries.js';
import { readOnly } from '../api-query.js';
import { BadParameterError } from '../errors.js';
import { jsonRow } from '../json.js';
import { decimalInteger } from '../../zod-numbers.js';
import { intCursor, pageLimit, relayUrl, unixSeconds } from '../params.js';
import { errorSchema, relaySummarySchema } from '../schemas.js';
import { zodRoutes, type RouteOptions, type ZodRoutes } from './route-context.js';

const CHECK_TYPES = ['nip11', 'open', 'read', 'write', 'dns', 'ssl', 'geo', 'requirements'] as const;
const relayIdCursor = intCursor;
/** Check ids are bigint (bigserial): any safe integer. */
const checkIdCursor = decimalInteger(0, Number.MAX_SAFE_INTEGER, 'expected a cursor from a previous page');

const VERIFIED_NIP_DESCRIPTION =
  'relays seen doing this NIP: 42 sent an AUTH challenge, 45 COUNT agreed with REQ, 77 answered NEG-OPEN; ' +
  "9, 40, 50, 70 passed the monitor's claim probe (docs/nips.md)";

const checkSchema = z.object({
  id: z.number(),
  check_type: z.string(),
  checked_at: z.string(),
  ok: z.boolean(),
  rtt_ms: z.number().nullable(),
  reason: z.string().nullable(),
});

export function registerRelayRoutes(app: FastifyInstance, options: RouteOptions): void {
  const routes = zodRoutes(app);
  registerRelayList(routes, options);
  registerRelayDetail(routes, options);
  registerCheckHistory(routes, options);
}

const statementTimeout = (options: RouteOptions) => options.config().api.statement_timeout_ms;

function registerRelayList(routes: ZodRoutes, options: RouteOptions): void {
  const api = options.config().api;
  routes.get(
    '/v1/relays',
    {
      schema: {
        summary: 'List relays',
        tags: ['relays'],
        querystring: z
          .object({
            network: z.enum(['clearnet', 'tor', 'i2p', 'loki']).optional(),
            state: z.enum(['candidate', 'active', 'retired']).optional(),
            status: z.enum(['up', 'down', 'unchecked']).optional().describe('by the latest open check'),
            nip: decimalInteger(0, 9_999, 'expected a NIP number (0-9999)')
              .optional()
              .describe('relays whose latest NIP-11 lists this NIP in supported_nips'),
            verified_nip: z.enum(['9', '40', '42', '45', '50', '70', '77']).optional().describe(VERIFIED_NIP_DESCRIPTION),
            limit: pageLimit(api.page_size_default, api.page_size_max),
            cursor: relayIdCursor.optional().describe('next_cursor of the previous page'),
          })
          .strict(),
        response: {
          200: z.object({ relays: z.array(relaySummarySchema), next_cursor: z.string().nullable() }),
          400: errorSchema,
          503: errorSchema,
        },
      },
    },
    async (request) => {
      const query = request.query;
      const { verified_nip: verifiedNip, ...rest } = query;
      const rows = await readOnly(options.db, statementTimeout(options), (tx) =>
        listRelaySummaries(tx, {
          ...rest,
          ...(verifiedNip ? { verifiedNip: Number(verifiedNip) } : {}),
          afterId: query.cursor,
          limit: query.limit + 1,
        }),
      );
      const page = rows.slice(0, query.limit).map(jsonRow);
      const last = page[page.length - 1];
      return { relays: page, next_cursor: rows.length > query.limit && last ? String(last.id) : null };
    },
  );
}

function registerRelayDetail(routes: ZodRoutes, options: RouteOptions): void {
  routes.get(
    '/v1/relays/detail',
    {
      schema: {
        summary: 'One relay: latest NIP-11 and checks, uptime, latency, sync',
        tags: ['relays'],
        querystring: z.object({ url: relayUrl.describe('the relay URL (ws:// or wss://)') }).strict(),
        response: { 200: z.record(z.string(), z.unknown()), 400: errorSchema, 404: errorSchema, 503: errorSchema },
      },
    },
    async (request, reply) => {
      const detail = await readOnly(options.db, statementTimeout(options), (tx) => relayDetail(tx, request.query.url));
      if (!detail) return reply.code(404).send({ error: 'not found', message: `no relay ${request.query.url} in the archive` });
      return {
        ...detail,
        relay: jsonRow(detail.relay),
        checks: Object.fromEntries(Object.entries(detail.checks).map(([type, check]) => [type, jsonRow(check)])),
        uptime: detail.uptime ? jsonRow(detail.uptime) : null,
        sync: detail.sync ? jsonRow(detail.sync) : null,
        health: detail.health ? jsonRow(detail.health) : null,
        limits: detail.limits ? jsonRow(detail.limits) : null,
      };
    },
  );
}

function registerCheckHistory(routes: ZodRoutes, options: RouteOptions): void {
  const api = options.config().api;
  routes.get(
    '/v1/relays/checks',
    {
      schema: {
        summary: "A relay's check history, newest first",
        tags: ['relays'],
        querystring: z
          .object({
            url: relayUrl,
            type: z.enum(CHECK_TYPES).optional(),
            since: unixSeconds.optional(),
            limit: pageLimit(api.page_size_default, api.page_size_max),
            cursor: checkIdCursor.optional(),
          })
          .strict(),
        response: {
          200: z.object({ checks: z.array(checkSchema), next_cursor: z.string().nullable() }),
          400: errorSchema,
          503: errorSchema,
        },
      },
    },
    async (request) => {
      const query = request.query;
      if (query.cursor === 0) throw new BadParameterError('cursor', 'expected a cursor from a previous page');
      const rows = await readOnly(options.db, statementTimeout(options), (tx) =>
        checkHistory(tx, { url: query.url, type: query.type, since: query.since, beforeId: query.cursor, limit: query.limit + 1 }),
      );
      const page = rows.slice(0, query.limit).map(jsonRow);
      const last = page[page.length - 1];
      return { checks: page, next_cursor: rows.length > query.limit && last ? String(last.id) : null };
    },
  );
}
