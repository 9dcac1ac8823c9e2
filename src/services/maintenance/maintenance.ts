/**
 * The maintenance service (docs/maintenance.md): creates the partitions of `event` (yearly or
 * monthly: `maintenance.event_partition_interval`) and `relay_check` (monthly) ahead of time and for
 * rows stranded in event_default (plan.ts), drops whole partitions past their retention (with the
 * `event_relay` rows of dropped events), removes metadata documents no check points to any more,
 * and ANALYZEs what changed. One process at a time runs it, through a lease; `dryRun` reports the
 * same plan and changes nothing.
 */
import type { Config } from '../../config/schema.js';
import { foldArchiveCounters } from '../../db/archive-counters.js';
import type { Database } from '../../db/database.js';
import { processOwnerId } from '../../db/leases.js';
import { silentLogger, type Logger } from '../../observability/logger.js';
import { periodicService, type Service, type ServiceOptions } from '../service.js';
import { maintenanceMetrics } from './metrics.js';
import { SPLIT_MAX_ROWS } from './plan.js';
import { emptyReport, type MaintenanceReport } from './report.js';
import { dropExpiredPartitions, finishInterruptedRetention } from './retention.js';
import { leaseKeeper, releaseMaintenanceLease, takeMaintenanceLease } from './run-lease.js';
import { planRun, type MaintenanceRun } from './run.js';
import {
  analyzeChangedTables,
  createPartitions,
  finishReport,
  recordDefaultPartitionRows,
  removeOrphanMetadata,
  splitPartitions,
} from './steps.js';

export { MAINTENANCE_SERVICE } from './run-lease.js';
export type { MaintenanceReport, PartitionAction, SplitAction } from './report.js';

export interface MaintenanceOptions {
  db: Database;
  config: Config;
  logger?: Logger;
  owner?: string;
  dryRun?: boolean;
  now?: Date;
  signal?: AbortSignal;
  splitMaxRows?: number;
}

/**
 * One maintenance run. Without `dryRun` it takes the maintenance lease first and returns undefined
 * when another process holds it. `now` (tests) is the time the plan is made for; `splitMaxRows`
 * (tests) replaces SPLIT_MAX_ROWS.
 */
export async function runMaintenance(options: MaintenanceOptions): Promise<MaintenanceReport | undefined> {
  const { db } = options;
  const logger = options.logger ?? silentLogger();
  const dryRun = options.dryRun === true;
  const now = options.now ?? new Date();
  const started = performance.now();
  const owner = dryRun ? undefined : (options.owner ?? processOwnerId());
  if (owner !== undefined && !(await takeMaintenanceLease(db, owner))) {
    maintenanceMetrics().runs.inc({ outcome: 'skipped' });
    return undefined;
  }
  const keepLease = leaseKeeper(db, owner);
  // The archive's counts (src/db/archive-counters.ts): the changes since the last fold, folded.
  if (!dryRun) await foldArchiveCounters(db);
  const settings = options.config.maintenance;
  const splitMaxRows = options.splitMaxRows ?? SPLIT_MAX_ROWS;
  const report = emptyReport(dryRun, now);
  const run: MaintenanceRun = {
    db,
    settings,
    logger,
    dryRun,
    now,
    signal: options.signal,
    splitMaxRows,
    keepLease,
    report,
    analyze: new Set(),
  };
  try {
    const planned = await planRun(run);
    // 1. Partitions ahead of time, those replacing a partition of another range, those for rows stranded in the default partition.
    await splitPartitions(run, planned.plan.split);
    await createPartitions(run, planned.plan.create);
    // 2. Retention: whole partitions only.
    await finishInterruptedRetention(run, planned.leftovers);
    await dropExpiredPartitions(run, planned.plan.drop);
    // 3. Metadata documents no check points to any more; 4. statistics of what changed.
    await removeOrphanMetadata(run, planned);
    await analyzeChangedTables(run, planned);
    await recordDefaultPartitionRows(run, planned);
    return finishReport(run, Math.round(performance.now() - started));
  } catch (error) {
    if (!dryRun) maintenanceMetrics().runs.inc({ outcome: 'failed' });
    throw error;
  } finally {
    if (owner !== undefined) await releaseMaintenanceLease(db, owner, logger);
  }
}

export function createMaintenanceService(options: ServiceOptions): Service {
  const owner = processOwnerId();
  return periodicService(options, {
    name: 'maintenance',
    intervalSeconds: (config) => config.maintenance.interval_seconds,
    round: async (config, signal) => {
      const report = await runMaintenance({ db: options.db, config, logger: options.logger, owner, signal });
      if (report === undefined) {
        options.logger.debug('maintenance is running in another process; skipped');
        return;
      }
      for (const warning of report.warnings) options.logger.warn(warning);
      const changed = report.created.length + report.dropped.length + report.orphanMetadata > 0;
      options.logger[changed ? 'info' : 'debug'](
        {
          created: report.created.length,
          split: report.split.length,
          dropped: report.dropped.length,
          eventRelayRemoved: report.eventRelayRemoved,
          orphanMetadata: report.orphanMetadata,
          defaultPartitionRows: report.defaultPartitionRows,
          durationMs: report.durationMs,
        },
        'maintenance run done',
      );
    },
  });
}
