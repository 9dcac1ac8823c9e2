/**
 * The one HTTP server of bigbrotr (Fastify): `/metrics`, `/healthz`, `/readyz` always; with
 * `api.enabled` also the REST API under `/v1` (OpenAPI document at `/v1/openapi.json`, browsable
 * docs at `/v1/docs`), the dashboard at `/`, the archive's NIP-11 document at `/` for
 * `Accept: application/nostr+json`, and the archive relay on WebSocket upgrades of `/`.
 */
import fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import type { Config } from '../config/schema.js';
import type { Database } from '../db/database.js';
import { registerRequestTracing } from '../observability/tracing.js';
import { ApiTimeoutError } from './api-query.js';
import { archiveNip11Document } from './archive-relay.js';
import { registerDashboard } from './dashboard.js';
import { BadParameterError } from './errors.js';
import { DatabaseBusyError } from '../db/errors.js';
import { errorMessage } from '../error-message.js';
import type { Logger } from '../observability/logger.js';
import { registerEventRoutes } from './routes/events.js';
import { registerHealthRoutes, type HealthOptions } from './routes/health.js';
import { registerRelayRoutes } from './routes/relays.js';
import { registerStatsRoutes } from './routes/stats.js';

const BUSY_LOG_INTERVAL_MS = 10_000;

/** The health routes' options (registry, readiness and replica checks, logger), and the archive to serve. */
export interface HttpAppOptions extends HealthOptions {
  /** The archive to serve (`db`: the read replica when there is one); without it only the health routes exist. */
  api?: { db: Database; config: () => Config; version: string };
}

interface ZodIssueLike {
  path?: (string | number)[];
  instancePath?: string;
  message: string;
  params?: { issue?: { path?: (string | number)[]; message?: string } };
}

/** The parameter a validation error is about, and what is wrong with it. */
function describeValidation(error: FastifyError): { parameter: string; message: string } {
  const issue = (error.validation?.[0] ?? {}) as unknown as ZodIssueLike;
  const unknownKeys = (issue.params as { keys?: string[] } | undefined)?.keys;
  if (unknownKeys?.length) return { parameter: String(unknownKeys[0]), message: 'unknown parameter' };
  const path = issue.params?.issue?.path ?? issue.path ?? (issue.instancePath ? issue.instancePath.split('/').filter(Boolean) : []);
  const parameter = path.length ? String(path[0]) : (error.validationContext ?? 'request');
  const message = issue.params?.issue?.message ?? issue.message ?? error.message;
  return { parameter, message: message.replace(/^Invalid input: /, '') };
}

export async function buildHttpApp(options: HttpAppOptions): Promise<FastifyInstance> {
  const app = fastify({
    logger: false,
    trustProxy: options.api?.config().api.trust_proxy ?? false,
    bodyLimit: 64 * 1024,
    // As long as the longest parameter any schema takes (a nevent with relay hints: 1,000 characters).
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1_000 },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerRequestTracing(app);
  app.setErrorHandler(errorHandler(options.logger));
  app.setNotFoundHandler((request, reply) => {
    const known = ['/metrics', '/healthz', '/readyz'].includes(request.url.split('?')[0] ?? '');
    if (known) return reply.code(405).type('text/plain').send('method not allowed\n');
    return reply.code(404).send({ error: 'not found', message: `no route ${request.method} ${request.url.split('?')[0]?.slice(0, 200)}` });
  });

  registerHealthRoutes(app, options);
  const api = options.api;
  if (!api) return app;
  const config = api.config();
  await registerOpenApi(app, api.version);
  if (config.api.rate_limit_per_minute > 0) await registerRateLimit(app, config.api.rate_limit_per_minute);
  registerEventRoutes(app, api);
  registerRelayRoutes(app, api);
  registerStatsRoutes(app, api);
  app.get('/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  const nip11 = archiveNip11Document(config, api.version);
  registerDashboard(app, { nip11: () => nip11 });
  return app;
}

/** Every failure as a JSON error naming what went wrong; overload is logged once per interval, not once per refused request. */
function errorHandler(logger: Logger): (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => FastifyReply {
  let lastBusyLog = 0;
  let busySinceLog = 0;
  return (error, request, reply) => {
    if ((error as unknown) instanceof DatabaseBusyError) {
      busySinceLog += 1;
      if (Date.now() - lastBusyLog >= BUSY_LOG_INTERVAL_MS) {
        logger.warn(
          { refused: busySinceLog, reason: errorMessage(error) },
          'API overloaded: requests answered 503 (database connections busy)',
        );
        lastBusyLog = Date.now();
        busySinceLog = 0;
      }
      return reply.code(503).header('retry-after', '1').send({ error: 'busy', message: 'the archive is busy; retry in a second' });
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const { parameter, message } = describeValidation(error);
      return reply.code(400).send({ error: 'invalid parameter', parameter, message: `${parameter}: ${message}` });
    }
    if (error instanceof BadParameterError)
      return reply.code(400).send({ error: 'invalid parameter', parameter: error.parameter, message: error.message });
    if (error instanceof ApiTimeoutError)
      return reply.code(503).send({ error: 'timeout', message: 'the archive did not answer in time; narrow the query' });
    if (error.statusCode === 429) return reply.code(429).send({ error: 'rate limited', message: error.message });
    if (error.statusCode && error.statusCode < 500)
      return reply.code(error.statusCode).send({ error: 'bad request', message: error.message });
    logger.error({ err: error, method: request.method, url: request.url.slice(0, 300) }, 'API request failed');
    return reply.code(500).send({ error: 'internal error', message: 'the request failed; see the server log' });
  };
}

async function registerOpenApi(app: FastifyInstance, version: string): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'bigbrotr archive API',
        description: 'Search the archived Nostr events and the health history of relays.',
        version,
      },
      tags: [
        { name: 'events', description: 'Archived events' },
        { name: 'relays', description: 'Relays and their checks' },
        { name: 'stats', description: 'Network statistics' },
      ],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/v1/docs' });
}

async function registerRateLimit(app: FastifyInstance, perMinute: number): Promise<void> {
  await app.register(fastifyRateLimit, {
    global: true,
    max: perMinute,
    timeWindow: 60_000,
    // Only the API is limited (health checks and metrics scrapes are cached instead, the dashboard is
    // static). Decided on the route the router matched, never on the raw URL: `/%761/events` routes
    // to `/v1/events` and is limited like it.
    allowList: (request) => {
      const route = request.routeOptions.url ?? '';
      return !route.startsWith('/v1/') || route.startsWith('/v1/docs');
    },
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      error: 'rate limited',
      message: `more than ${context.max} requests per minute; retry after ${Math.ceil(context.ttl / 1000)} s`,
    }),
  });
}
