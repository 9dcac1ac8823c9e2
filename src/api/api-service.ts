/** `bigbrotr serve`: the HTTP server (API, archive relay, dashboard, metrics) as a service that runs until stopped. */
import { packageVersion } from '../cli/version.js';
import type { Config } from '../config/schema.js';
import type { Database } from '../db/database.js';
import type { Logger } from '../observability/logger.js';
import { metricsRegistry } from '../observability/metrics.js';
import type { Service } from '../services/service.js';
import { startHttpServer } from './http-server.js';

export function createApiService(options: { db: Database; config: () => Config; logger: Logger; onListening?: (url: string) => void }): Service {
  return {
    name: 'api',
    async run(signal) {
      const config = options.config();
      const server = await startHttpServer({
        host: config.http.host,
        port: config.http.port,
        registry: metricsRegistry(),
        checkReady: () => options.db.ping(),
        readinessTimeoutMs: config.http.readiness_timeout_ms,
        logger: options.logger,
        api: { db: options.db, config: options.config, version: packageVersion() },
      });
      options.logger.info({ url: server.url }, `dashboard at ${server.url}/, API at ${server.url}/v1 (docs ${server.url}/v1/docs), archive relay at ${server.url.replace(/^http/, 'ws')}/`);
      options.onListening?.(server.url);
      try {
        if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      } finally {
        await server.close();
      }
    },
  };
}
