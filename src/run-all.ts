/**
 * `bigbrotr run`: one process with every service. Migrates, seeds, starts the metrics/health server,
 * then supervises the services until a stop signal. The services: finder, validator, monitor, synchronizer, data vending machine (when on), maintenance; the API on the HTTP server.
 */
import { unreachableNetworks } from './relay/overlay.js';
import { loadConfig, type LoadedConfig } from './config/loader.js';
import { diffConfig, mergeReloaded } from './config/reload.js';
import { describeVerifier } from './nostr/schnorr.js';
import type { Config } from './config/schema.js';
import type { Database } from './db/database.js';
import { openDatabase, openReadReplica } from './db/open.js';
import { migrate } from './db/migrate.js';
import { startHttpServer, type HttpServer } from './api/http-server.js';
import type { Logger } from './observability/logger.js';
import { metricsRegistry, setBuildInfo } from './observability/metrics.js';
import { registerSecret } from './observability/redact.js';
import { packageVersion } from './package-root.js';
import { seedRelays } from './services/seeder.js';
import { superviseServices, type SupervisorResult } from './services/supervisor.js';
import type { Service } from './services/service.js';
import { createSyncService } from './services/sync/sync-service.js';
import { createValidatorService } from './services/validator/validator.js';
import { createFinderService } from './services/finder/finder.js';
import { createMonitorService } from './services/monitor/monitor.js';
import { createMaintenanceService } from './services/maintenance/maintenance.js';
import { createDvmService } from './services/dvm/dvm-service.js';

export interface RunAllOptions {
  loaded: LoadedConfig;
  logger: Logger;
  /** Ends the run like SIGTERM (tests). */
  signal?: AbortSignal;
  /** Called once everything is up, with the health server's URL (tests). */
  onReady?: (info: { healthUrl: string | undefined }) => void;
}

export async function runAll(options: RunAllOptions): Promise<SupervisorResult> {
  const { logger } = options;
  let config: Config = options.loaded.config;
  const db = await openDatabase(config.database, logger);
  let health: HttpServer | undefined;
  let replica: Database | undefined;
  try {
    const migration = await migrate(db, { lockTimeoutMs: config.database.migrate_lock_timeout_ms, logger });
    logger.info({ database: db.kind, applied: migration.applied, schema: migration.current }, 'database ready');
    const verifier = describeVerifier();
    (verifier.name === 'wasm' ? logger.warn.bind(logger) : logger.info.bind(logger))(
      { verifier: verifier.name, unavailable: verifier.unavailable },
      `signature verifier: ${verifier.description}`,
    );
    const unreachable = unreachableNetworks(config.relay);
    if (unreachable.length > 0) {
      logger.info(
        { networks: unreachable.map((entry) => entry.network) },
        `relays on ${unreachable.map((entry) => `${entry.network} (set ${entry.option})`).join(', ')} are left alone: not validated, checked, synchronised or retired`,
      );
    }
    setBuildInfo(packageVersion(), db.kind);

    if (config.seed.on_start) {
      await seedRelays(db, { file: config.seed.file, maxUrlLength: config.relay_url.max_length, logger });
    }

    if (config.http.enabled) {
      // The API, archive relay and dashboard read from the replica when there is one; services write to db.
      replica = config.api.enabled ? await openReadReplica(config, logger) : undefined;
      if (replica) logger.info('the API, archive relay and dashboard read from the read replica (api.database_url)');
      const reads = replica;
      health = await startHttpServer({
        host: config.http.host,
        port: config.http.port,
        registry: metricsRegistry(),
        checkReady: () => db.ping(),
        checkReplica: reads ? () => reads.ping() : undefined,
        readinessTimeoutMs: config.http.readiness_timeout_ms,
        logger,
        ...(config.api.enabled ? { api: { db: reads ?? db, config: () => config, version: packageVersion() } } : {}),
      });
      logger.info({ url: health.url }, `metrics at ${health.url}/metrics, health at ${health.url}/healthz and ${health.url}/readyz`);
      if (config.api.enabled) {
        logger.info(
          { url: health.url },
          `dashboard at ${health.url}/, API at ${health.url}/v1 (docs ${health.url}/v1/docs), archive relay at ${health.url.replace(/^http/, 'ws')}/`,
        );
      }
    }

    const services: Service[] = [];
    if (config.finder.enabled)
      services.push(createFinderService({ db, config: () => config, logger: logger.child({ service: 'finder' }) }));
    if (config.validator.enabled)
      services.push(createValidatorService({ db, config: () => config, logger: logger.child({ service: 'validator' }) }));
    if (config.monitor.enabled)
      services.push(createMonitorService({ db, config: () => config, logger: logger.child({ service: 'monitor' }) }));
    if (config.sync.enabled)
      services.push(createSyncService({ db, config: () => config, logger: logger.child({ service: 'synchronizer' }) }));
    if (config.dvm.enabled) services.push(createDvmService({ db, config: () => config, logger: logger.child({ service: 'dvm' }) }));
    if (config.maintenance.enabled)
      services.push(createMaintenanceService({ db, config: () => config, logger: logger.child({ service: 'maintenance' }) }));

    return await superviseServices({
      services,
      logger,
      graceMs: () => config.shutdown.grace_ms,
      signal: options.signal,
      onStarted: () => {
        logger.info(
          { services: services.map((service) => service.name) },
          'bigbrotr is running; SIGINT or SIGTERM stops it, SIGHUP reloads the config',
        );
        options.onReady?.({ healthUrl: health?.url });
      },
      onReload: () => {
        const reloaded = loadConfig(options.loaded.options);
        for (const value of reloaded.secretValues) registerSecret(value);
        const changes = diffConfig(config, reloaded.config);
        if (changes.restartRequired.length > 0) {
          logger.warn(
            { options: changes.restartRequired },
            `these options change only after a restart: ${changes.restartRequired.join(', ')}`,
          );
        }
        config = mergeReloaded(config, reloaded.config);
        logger.level = config.log.level;
        for (const service of services) service.reload?.(config);
        logger.info(
          { applied: changes.applied },
          changes.applied.length ? `configuration reloaded: ${changes.applied.join(', ')}` : 'configuration reloaded: nothing changed',
        );
      },
    });
  } finally {
    await health?.close();
    await replica?.close();
    await db.close();
    logger.info('bigbrotr stopped');
  }
}
