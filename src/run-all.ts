/**
 * `bigbrotr run`: one process with every service. Migrates, seeds, starts the metrics/health server,
 * then supervises the services until a stop signal. The services: finder, validator, monitor,
 * synchronizer, data vending machine (when on), maintenance; the API on the HTTP server.
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
import type { Service, ServiceOptions } from './services/service.js';
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

/** The services `bigbrotr run` starts, each when its section is enabled, in start order. */
const SERVICES: { name: string; enabled: (config: Config) => boolean; create: (options: ServiceOptions) => Service }[] = [
  { name: 'finder', enabled: (config) => config.finder.enabled, create: createFinderService },
  { name: 'validator', enabled: (config) => config.validator.enabled, create: createValidatorService },
  { name: 'monitor', enabled: (config) => config.monitor.enabled, create: createMonitorService },
  { name: 'synchronizer', enabled: (config) => config.sync.enabled, create: createSyncService },
  { name: 'dvm', enabled: (config) => config.dvm.enabled, create: createDvmService },
  { name: 'maintenance', enabled: (config) => config.maintenance.enabled, create: createMaintenanceService },
];

export async function runAll(options: RunAllOptions): Promise<SupervisorResult> {
  const { logger } = options;
  let config: Config = options.loaded.config;
  const db = await openDatabase(config.database, logger);
  let serving: Serving = {};
  try {
    await prepareDatabase(db, config, logger);
    if (config.http.enabled) serving = await startServing(db, () => config, logger);
    const services = SERVICES.filter((entry) => entry.enabled(config)).map((entry) =>
      entry.create({ db, config: () => config, logger: logger.child({ service: entry.name }) }),
    );
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
        options.onReady?.({ healthUrl: serving.health?.url });
      },
      onReload: () => {
        config = reloadConfig(options.loaded, config, services, logger);
      },
    });
  } finally {
    await serving.health?.close();
    await serving.replica?.close();
    await db.close();
    logger.info('bigbrotr stopped');
  }
}

/** Migrates the database and says what this process runs with (verifier, networks left alone, build). */
async function prepareDatabase(db: Database, config: Config, logger: Logger): Promise<void> {
  const migration = await migrate(db, { lockTimeoutMs: config.database.migrate_lock_timeout_ms, logger });
  logger.info({ database: db.kind, applied: migration.applied, schema: migration.current }, 'database ready');
  const verifier = describeVerifier();
  (verifier.name === 'wasm' ? logger.warn.bind(logger) : logger.info.bind(logger))(
    { verifier: verifier.name, unavailable: verifier.unavailable },
    `signature verifier: ${verifier.description}`,
  );
  const unreachable = unreachableNetworks(config.relay);
  if (unreachable.length > 0) {
    const networks = unreachable.map((entry) => `${entry.network} (set ${entry.option})`).join(', ');
    logger.info(
      { networks: unreachable.map((entry) => entry.network) },
      `relays on ${networks} are left alone: not validated, checked, synchronised or retired`,
    );
  }
  setBuildInfo(packageVersion(), db.kind);
  if (config.seed.on_start) await seedRelays(db, { file: config.seed.file, maxUrlLength: config.relay_url.max_length, logger });
}

interface Serving {
  health?: HttpServer;
  replica?: Database;
}

/** The HTTP server: metrics and health, and when the API is on, the API, archive relay and dashboard. */
async function startServing(db: Database, currentConfig: () => Config, logger: Logger): Promise<Serving> {
  const config = currentConfig();
  // The API, archive relay and dashboard read from the replica when there is one; services write to db.
  const replica = config.api.enabled ? await openReadReplica(config, logger) : undefined;
  if (replica) logger.info('the API, archive relay and dashboard read from the read replica (api.database_url)');
  const health = await startHttpServer({
    host: config.http.host,
    port: config.http.port,
    registry: metricsRegistry(),
    checkReady: () => db.ping(),
    checkReplica: replica ? () => replica.ping() : undefined,
    readinessTimeoutMs: config.http.readiness_timeout_ms,
    logger,
    ...(config.api.enabled ? { api: { db: replica ?? db, config: currentConfig, version: packageVersion() } } : {}),
  });
  const url = health.url;
  logger.info({ url }, `metrics at ${url}/metrics, health at ${url}/healthz and ${url}/readyz`);
  if (config.api.enabled) {
    const relayUrl = `${url.replace(/^http/, 'ws')}/`;
    logger.info({ url }, `dashboard at ${url}/, API at ${url}/v1 (docs ${url}/v1/docs), archive relay at ${relayUrl}`);
  }
  return { health, replica };
}

/** SIGHUP: the config read again; options that only change after a restart are named and kept. */
function reloadConfig(loaded: LoadedConfig, config: Config, services: readonly Service[], logger: Logger): Config {
  const reloaded = loadConfig(loaded.options);
  for (const value of reloaded.secretValues) registerSecret(value);
  const changes = diffConfig(config, reloaded.config);
  if (changes.restartRequired.length > 0) {
    logger.warn({ options: changes.restartRequired }, `these options change only after a restart: ${changes.restartRequired.join(', ')}`);
  }
  const merged = mergeReloaded(config, reloaded.config);
  logger.level = merged.log.level;
  for (const service of services) service.reload?.(merged);
  logger.info(
    { applied: changes.applied },
    changes.applied.length ? `configuration reloaded: ${changes.applied.join(', ')}` : 'configuration reloaded: nothing changed',
  );
  return merged;
}
