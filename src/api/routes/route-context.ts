/** What every group of routes is registered with: the app typed by zod schemas, the database and the live config. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Config } from '../../config/schema.js';
import type { Database } from '../../db/database.js';

export interface RouteOptions {
  db: Database;
  config: () => Config;
}

/** The app with request and response types taken from each route's zod schemas. */
export function zodRoutes(app: FastifyInstance) {
  return app.withTypeProvider<ZodTypeProvider>();
}

export type ZodRoutes = ReturnType<typeof zodRoutes>;
