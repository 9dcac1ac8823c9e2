/**
 * The maintenance service (docs/maintenance.md): creates the partitions of `event` (yearly or
 * monthly: `maintenance.event_partition_interval`) and `relay_check` (monthly) ahead of time and for
 * rows stranded in event_default (plan.ts), drops whole partitions past their retention (with the
 * `event_relay` rows of dropped events), removes metadata documents no check points to any more,
 * and ANALYZEs what changed. One process at a time runs it, through a lease; `dryRun` reports the
 * same plan and changes nothing.
 */
import type { Config, MaintenanceConfig } from '../../config/schema.js';
import { foldArchiveCounters, uncountExpiredEventTable } from '../../db/archive-counters.js';
import type { Database } from '../../db/database.js';
import { acquireLeases, processOwnerId, renewLeases } from '../../db/leases.js';
import { releaseLeasesQuietly } from '../work-pool.js';
import {
  EXPIRED_EVENT_PREFIX,
  analyzeTable,
  countOrphanMetadata,
  countRowsUpTo,
  createCheckPartition,
  createEventPartition,
  defaultPartitionRows,
  deleteExpiredProvenanceBatch,
  deleteOrphanMetadataBatch,
  detachEventPartition,
  dropCheckPartition,
  dropExpiredEventTable,
  listExpiredEventTables,
  listPartitions,
  splitEventPartition,
  type PartitionInfo,
  type PartitionedTable,
} from '../../db/maintenance.js';
import { silentLogger, type Logger } from '../../observability/logger.js';
import { periodicService, type Service } from '../service.js';
import { maintenanceMetrics } from './metrics.js';
import { SPLIT_MAX_ROWS, iso, planPartitions, splitCandidates, strandedScanRange, type MaintenancePlan } from './plan.js';

export const MAINTENANCE_SERVICE = 'maintenance';
const LEASE_RESOURCE = 'run';
const LEASE_TTL_MS = 10 * 60_000;

export interface PartitionAction {
  table: PartitionedTable;
  name: string;
  /** Range as ISO timestamps (null: unbounded or unknown, e.g. a detached partition left by an interrupted run). */
  from: string | null;
  to: string | null;
  /** For drops: the planner's row estimate. */
  estimatedRows?: number;
  /** For event partitions created: rows of event_default they take in. */
  strandedRows?: number;
}

/** An event partition replaced by monthly ones (`maintenance.event_partition_interval: month`). */
export interface SplitAction extends PartitionAction {
  /** Rows it held (they move into the new partitions). */
  rows: number;
  /** The monthly partitions that replace it. */
  into: string[];
}

export interface MaintenanceReport {
  dryRun: boolean;
  /** The time the plan is computed for. */
  at: string;
  /** Partitions created (dry run: that would be created). */
  created: PartitionAction[];
  /** Event partitions replaced by monthly ones (dry run: that would be); their months are in `created` too. */
  split: SplitAction[];
  /** Partitions dropped by retention (dry run: that would be dropped). */
  dropped: PartitionAction[];
  /** event_relay rows removed with dropped events (null in a dry run: not counted). */
  eventRelayRemoved: number | null;
  /** Orphan metadata documents removed (dry run: that would be removed, counting the effect of the drops). */
  orphanMetadata: number;
  /**
   * Rows in the default partitions at the end of the run (dry run: now). Rows of event_default dated
   * before 2020 or after the partitions created ahead stay there; the rest get a partition.
   */
  defaultPartitionRows: Record<PartitionedTable, number>;
  /** Tables analyzed (dry run: that would be). */
  analyzed: string[];
  /** Things left alone, with the reason (e.g. a custom partition overlapping a planned one). */
  warnings: string[];
  /** True when stopped before the end (a later run finishes the job). */
  interrupted: boolean;
  durationMs: number;
}

function createdAction(partition: {
  table: PartitionedTable;
  name: string;
  from: number;
  to: number;
  strandedRows?: number;
}): PartitionAction {
  return {
    table: partition.table,
    name: partition.name,
    from: iso(partition.from),
    to: iso(partition.to),
    ...(partition.strandedRows === undefined ? {} : { strandedRows: partition.strandedRows }),
  };
}

function defaultName(partitions: PartitionInfo[]): string | undefined {
  return partitions.find((info) => info.isDefault)?.name;
}

async function countDefaultRows(
  db: Database,
  existing: Record<PartitionedTable, PartitionInfo[]>,
): Promise<Record<PartitionedTable, number>> {
  const counts: Record<PartitionedTable, number> = { event: 0, relay_check: 0 };
  for (const table of ['event', 'relay_check'] as const) {
    const name = defaultName(existing[table]);
    if (name !== undefined) counts[table] = (await defaultPartitionRows(db, name)).total;
  }
  return counts;
}

/** Reads what the plan depends on (rows stranded in event_default, rows of partitions that could be split) and plans. */
async function gatherPlan(
  db: Database,
  existing: Record<PartitionedTable, PartitionInfo[]>,
  settings: MaintenanceConfig,
  now: Date,
  splitMaxRows: number,
): Promise<{ plan: MaintenancePlan; defaultRows: Record<PartitionedTable, number> }> {
  const eventDefault = defaultName(existing.event);
  const stranded =
    eventDefault === undefined ? { total: 0, months: [] } : await defaultPartitionRows(db, eventDefault, strandedScanRange(settings, now));
  const checkDefault = defaultName(existing.relay_check);
  const candidateRows = new Map<string, number>();
  for (const candidate of splitCandidates(existing.event, settings, now))
    candidateRows.set(candidate.name, await countRowsUpTo(db, candidate.name, splitMaxRows + 1));
  const plan = planPartitions({ existing, stranded: stranded.months, candidateRows, splitMaxRows }, settings, now);
  return {
    plan,
    defaultRows: {
      event: stranded.total,
      relay_check: checkDefault === undefined ? 0 : (await defaultPartitionRows(db, checkDefault)).total,
    },
  };
}

/** Keeps the maintenance lease alive during a long run; throws once it is lost. */
function leaseKeeper(db: Database, owner: string | undefined): () => Promise<void> {
  let renewedAt = Date.now();
  return async () => {
    if (owner === undefined || Date.now() - renewedAt < LEASE_TTL_MS / 10) return;
    const held = await renewLeases(db, { service: MAINTENANCE_SERVICE, owner, resources: [LEASE_RESOURCE], ttlMs: LEASE_TTL_MS });
    if (held.length === 0) throw new Error('maintenance lease lost (another process took over); stopping this run');
    renewedAt = Date.now();
  };
}

/**
 * Deletes the event_relay rows of a detached expired event partition in batches, then drops it.
 * Returns the rows deleted, or null when stopped by `signal` (the table stays for the next run).
 */
async function retireExpiredEventTable(
  db: Database,
  table: string,
  settings: MaintenanceConfig,
  keepLease: () => Promise<void>,
  signal?: AbortSignal,
): Promise<number | null> {
  // Its events leave the archive's counts now (one scan of the detached table), not at the drop.
  await uncountExpiredEventTable(db, table);
  let after = '';
  let removed = 0;
  for (;;) {
    if (signal?.aborted) return null;
    const batch = await deleteExpiredProvenanceBatch(db, table, after, settings.batch_size);
    removed += batch.links;
    maintenanceMetrics().provenanceRemoved.inc(batch.links);
    if (batch.lastIdHex === null || batch.events < settings.batch_size) break;
    after = batch.lastIdHex;
    await keepLease();
  }
  await dropExpiredEventTable(db, table, settings.lock_timeout_ms);
  return removed;
}

/**
 * One maintenance run. Without `dryRun` it takes the maintenance lease first and returns undefined
 * when another process holds it. `now` (tests) is the time the plan is made for; `splitMaxRows`
 * (tests) replaces SPLIT_MAX_ROWS.
 */
export async function runMaintenance(options: {
  db: Database;
  config: Config;
  logger?: Logger;
  owner?: string;
  dryRun?: boolean;
  now?: Date;
  signal?: AbortSignal;
  splitMaxRows?: number;
}): Promise<MaintenanceReport | undefined> {
  const { db } = options;
  const settings = options.config.maintenance;
  const logger = options.logger ?? silentLogger();
  const dryRun = options.dryRun === true;
  const now = options.now ?? new Date();
  const started = Date.now();
  const metrics = maintenanceMetrics();
  const owner = dryRun ? undefined : (options.owner ?? processOwnerId());
  if (owner !== undefined) {
    const leased = await acquireLeases(db, {
      service: MAINTENANCE_SERVICE,
      owner,
      candidates: [LEASE_RESOURCE],
      limit: 1,
      ttlMs: LEASE_TTL_MS,
    });
    if (leased.length === 0) {
      metrics.runs.inc({ outcome: 'skipped' });
      return undefined;
    }
  }
  const keepLease = leaseKeeper(db, owner);
  // The archive's counts (src/db/archive-counters.ts): the changes since the last fold, folded.
  if (!dryRun) await foldArchiveCounters(db);
  const report: MaintenanceReport = {
    dryRun,
    at: now.toISOString(),
    created: [],
    split: [],
    dropped: [],
    eventRelayRemoved: dryRun ? null : 0,
    orphanMetadata: 0,
    defaultPartitionRows: { event: 0, relay_check: 0 },
    analyzed: [],
    warnings: [],
    interrupted: false,
    durationMs: 0,
  };
  const analyze = new Set<string>();
  try {
    const existing = { event: await listPartitions(db, 'event'), relay_check: await listPartitions(db, 'relay_check') };
    const splitMaxRows = options.splitMaxRows ?? SPLIT_MAX_ROWS;
    const { plan, defaultRows } = await gatherPlan(db, existing, settings, now, splitMaxRows);
    report.defaultPartitionRows = defaultRows;
    report.warnings.push(...plan.warnings);
    const leftovers = await listExpiredEventTables(db);

    // 1. Partitions ahead of time, those replacing a partition of another range, those for rows stranded in the default partition.
    for (const entry of plan.split) {
      if (options.signal?.aborted) break;
      const { partition } = entry;
      const action: SplitAction = {
        table: 'event',
        name: partition.name,
        from: iso(partition.from),
        to: iso(partition.to),
        rows: entry.rows,
        into: entry.into.map((month) => month.name),
      };
      const months = entry.into.map((month) => createdAction(month));
      if (!dryRun) {
        if (!(await splitEventPartition(db, partition.name, entry.into, splitMaxRows, settings.lock_timeout_ms))) continue;
        metrics.partitionsCreated.inc({ table: 'event' }, entry.into.length);
        for (const month of entry.into) analyze.add(month.name);
        logger.info(
          { partition: partition.name, rows: entry.rows, into: action.into },
          `replaced partition ${partition.name} by ${entry.into.length} monthly partition(s)`,
        );
      }
      report.split.push(action);
      report.created.push(...months);
      await keepLease();
    }
    for (const partition of plan.create) {
      if (options.signal?.aborted) break;
      const action = createdAction(partition);
      if (dryRun) {
        report.created.push(action);
        continue;
      }
      const created =
        partition.table === 'event'
          ? await createEventPartition(db, partition, settings.lock_timeout_ms)
          : await createCheckPartition(db, new Date(partition.from * 1000), settings.lock_timeout_ms);
      if (created) {
        report.created.push(action);
        metrics.partitionsCreated.inc({ table: partition.table });
        analyze.add(partition.name);
        logger.info(
          { partition: partition.name, from: action.from, to: action.to, strandedRows: partition.strandedRows },
          `created partition ${partition.name}`,
        );
      }
      await keepLease();
    }

    // 2. Retention: whole partitions only.
    for (const table of leftovers) {
      if (options.signal?.aborted) break;
      report.dropped.push({ table: 'event', name: table.slice(EXPIRED_EVENT_PREFIX.length), from: null, to: null });
      if (dryRun) continue;
      logger.info({ table }, `finishing the retention of ${table} left by an interrupted run`);
      const removed = await retireExpiredEventTable(db, table, settings, keepLease, options.signal);
      if (removed === null) break;
      report.eventRelayRemoved = (report.eventRelayRemoved ?? 0) + removed;
      analyze.add('event_relay');
    }
    for (const partition of plan.drop) {
      if (options.signal?.aborted) break;
      const action: PartitionAction = {
        table: partition.table,
        name: partition.name,
        from: iso(partition.from),
        to: iso(partition.to),
        estimatedRows: partition.estimatedRows,
      };
      if (dryRun) {
        report.dropped.push(action);
        continue;
      }
      if (partition.table === 'relay_check') {
        if (await dropCheckPartition(db, partition.name, settings.lock_timeout_ms)) {
          report.dropped.push(action);
          metrics.partitionsDropped.inc({ table: 'relay_check' });
          analyze.add('relay_check');
          logger.info(
            { partition: partition.name, rows: partition.estimatedRows },
            `dropped partition ${partition.name} (check retention)`,
          );
        }
      } else {
        const detached = await detachEventPartition(db, partition.name, settings.lock_timeout_ms);
        if (detached === null) continue;
        report.dropped.push(action);
        metrics.partitionsDropped.inc({ table: 'event' });
        analyze.add('event');
        logger.info(
          { partition: partition.name, rows: partition.estimatedRows },
          `detached partition ${partition.name} (event retention); removing its event_relay rows`,
        );
        const removed = await retireExpiredEventTable(db, detached, settings, keepLease, options.signal);
        if (removed === null) break;
        report.eventRelayRemoved = (report.eventRelayRemoved ?? 0) + removed;
        analyze.add('event_relay');
        logger.info({ partition: partition.name, eventRelayRemoved: removed }, `dropped partition ${partition.name}`);
      }
      await keepLease();
    }

    // 3. Metadata documents no check points to any more, first seen before the grace period.
    const olderThan = new Date(now.getTime() - settings.orphan_grace_seconds * 1000);
    if (dryRun) {
      report.orphanMetadata = await countOrphanMetadata(
        db,
        olderThan,
        plan.drop.filter((info) => info.table === 'relay_check').map((info) => info.name),
      );
    } else {
      while (!options.signal?.aborted) {
        const batch = await deleteOrphanMetadataBatch(db, olderThan, settings.batch_size, settings.lock_timeout_ms);
        report.orphanMetadata += batch.deleted;
        metrics.orphansRemoved.inc(batch.deleted);
        if (batch.candidates < settings.batch_size || batch.deleted === 0) break;
        await keepLease();
      }
      if (report.orphanMetadata > 0) {
        analyze.add('metadata');
        logger.info({ removed: report.orphanMetadata }, `removed ${report.orphanMetadata} orphan metadata document(s)`);
      }
    }

    // 4. Statistics of what changed (autovacuum never analyzes a partitioned parent).
    if (dryRun) {
      for (const partition of [...plan.split.flatMap((entry) => entry.into), ...plan.create]) analyze.add(partition.name);
      for (const partition of plan.drop) analyze.add(partition.table);
      if (plan.drop.some((info) => info.table === 'event') || leftovers.length > 0) analyze.add('event_relay');
      if (report.orphanMetadata > 0) analyze.add('metadata');
      report.analyzed = [...analyze];
    } else if (!options.signal?.aborted) {
      for (const table of analyze) {
        await analyzeTable(db, table);
        report.analyzed.push(table);
        await keepLease();
      }
    }
    if (!dryRun) {
      report.defaultPartitionRows = await countDefaultRows(db, existing);
      for (const table of ['event', 'relay_check'] as const)
        metrics.defaultPartitionRows.set({ table }, report.defaultPartitionRows[table]);
    }
    report.interrupted = options.signal?.aborted === true;
    report.durationMs = Date.now() - started;
    if (!dryRun) {
      metrics.runs.inc({ outcome: 'done' });
      metrics.lastRun.set(Date.now() / 1000);
      metrics.lastDuration.set(report.durationMs / 1000);
    }
    return report;
  } catch (error) {
    if (!dryRun) metrics.runs.inc({ outcome: 'failed' });
    throw error;
  } finally {
    if (owner !== undefined) await releaseLeasesQuietly(db, { service: MAINTENANCE_SERVICE, owner, resources: [LEASE_RESOURCE] }, logger);
  }
}

export function createMaintenanceService(options: { db: Database; config: () => Config; logger: Logger }): Service {
  const owner = processOwnerId();
  return periodicService({
    name: 'maintenance',
    config: options.config,
    logger: options.logger,
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
