/**
 * `bigbrotr serve`: the HTTP server (API, archive relay, dashboard, metrics) as a service that runs
 * until stopped; reading from the read replica of `api.database_url` when set.
 */
import { packageVersion } from '../package-root.js';
import type { Config } from '../config/schema.js';
import type { Database } from '../db/database.js';
import { openReadReplica } from '../db/open.js';
import type { Logger } from '../observability/logger.js';
import { metricsRegistry } from '../observability/metrics.js';
import type { Service } from '../services/service.js';
import { startHttpServer } from './http-server.js';

export function createApiService(options: {
  db: Database;
  config: () => Config;
  logger: Logger;
  onListening?: (url: string) => void;
}): Service {
  return {
    name: 'api',
    async run(signal) {
      const config = options.config();
      // Reads go to the read replica when api.database_url is set; the primary stays for readiness.
      const replica = await openReadReplica(config, options.logger);
      try {
        if (replica) options.logger.info('the API, archive relay and dashboard read from the read replica (api.database_url)');
        const server = await startHttpServer({
          host: config.http.host,
          port: config.http.port,
          registry: metricsRegistry(),
          checkReady: () => options.db.ping(),
          checkReplica: replica ? () => replica.ping() : undefined,
          readinessTimeoutMs: config.http.readiness_timeout_ms,
          logger: options.logger,
          api: { db: replica ?? options.db, config: options.config, version: packageVersion() },
        });
        options.logger.info(
          { url: server.url },
          `dashboard at ${server.url}/, API at ${server.url}/v1 (docs ${server.url}/v1/docs), ` +
            `archive relay at ${server.url.replace(/^http/, 'ws')}/`,
        );
        options.onListening?.(server.url);
        try {
          if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        } finally {
          await server.close();
        }
      } finally {
        await replica?.close();
      }
    },
  };
}
