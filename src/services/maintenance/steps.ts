/**
 * The steps of a maintenance run other than retention (retention.ts): partitions split and created,
 * orphan metadata removed, statistics refreshed, the run's figures reported. Each step stops early
 * once the run's signal is aborted (a later run finishes the job) and does nothing but report in a
 * dry run.
 */
import {
  analyzeTable,
  countOrphanMetadata,
  createCheckPartition,
  createEventPartition,
  deleteOrphanMetadataBatch,
  splitEventPartition,
} from '../../db/maintenance.js';
import { maintenanceMetrics } from './metrics.js';
import type { PlannedPartition, PlannedSplit } from './plan.js';
import { createdAction, rangeAction, type MaintenanceReport, type SplitAction } from './report.js';
import { countDefaultRows, stopped, type MaintenanceRun, type PlannedRun } from './run.js';

/** Event partitions of another range replaced by monthly ones (each in one transaction). */
export async function splitPartitions(run: MaintenanceRun, splits: PlannedSplit[]): Promise<void> {
  const { db, report } = run;
  for (const entry of splits) {
    if (stopped(run)) break;
    const { partition } = entry;
    const action: SplitAction = {
      ...rangeAction({ ...partition, table: 'event' }),
      rows: entry.rows,
      into: entry.into.map((month) => month.name),
    };
    if (!run.dryRun) {
      if (!(await splitEventPartition(db, partition.name, entry.into, run.splitMaxRows, run.settings.lock_timeout_ms))) continue;
      maintenanceMetrics().partitionsCreated.inc({ table: 'event' }, entry.into.length);
      for (const month of entry.into) run.analyze.add(month.name);
      run.logger.info(
        { partition: partition.name, rows: entry.rows, into: action.into },
        `replaced partition ${partition.name} by ${entry.into.length} monthly partition(s)`,
      );
    }
    report.split.push(action);
    report.created.push(...entry.into.map((month) => createdAction(month)));
    await run.keepLease();
  }
}

/** Partitions ahead of time, and those for rows stranded in the default partition. */
export async function createPartitions(run: MaintenanceRun, partitions: PlannedPartition[]): Promise<void> {
  const lockTimeoutMs = run.settings.lock_timeout_ms;
  for (const partition of partitions) {
    if (stopped(run)) break;
    const action = createdAction(partition);
    if (run.dryRun) {
      run.report.created.push(action);
      continue;
    }
    const created =
      partition.table === 'event'
        ? await createEventPartition(run.db, partition, lockTimeoutMs)
        : await createCheckPartition(run.db, new Date(partition.from * 1000), lockTimeoutMs);
    if (created) {
      run.report.created.push(action);
      maintenanceMetrics().partitionsCreated.inc({ table: partition.table });
      run.analyze.add(partition.name);
      run.logger.info(
        { partition: partition.name, from: action.from, to: action.to, strandedRows: partition.strandedRows },
        `created partition ${partition.name}`,
      );
    }
    await run.keepLease();
  }
}

/**
 * Metadata documents no check points to any more, first seen before the grace period (counted from
 * `run.now`). A dry run counts them, taking the check partitions it would drop into account.
 */
export async function removeOrphanMetadata(run: MaintenanceRun, { plan }: PlannedRun): Promise<void> {
  const { db, settings, report } = run;
  const olderThan = new Date(run.now.getTime() - settings.orphan_grace_seconds * 1000);
  if (run.dryRun) {
    const droppedChecks = plan.drop.filter((info) => info.table === 'relay_check').map((info) => info.name);
    report.orphanMetadata = await countOrphanMetadata(db, olderThan, droppedChecks);
    return;
  }
  while (!stopped(run)) {
    const batch = await deleteOrphanMetadataBatch(db, olderThan, settings.batch_size, settings.lock_timeout_ms);
    report.orphanMetadata += batch.deleted;
    maintenanceMetrics().orphansRemoved.inc(batch.deleted);
    if (batch.candidates < settings.batch_size || batch.deleted === 0) break;
    await run.keepLease();
  }
  if (report.orphanMetadata > 0) {
    run.analyze.add('metadata');
    run.logger.info({ removed: report.orphanMetadata }, `removed ${report.orphanMetadata} orphan metadata document(s)`);
  }
}

/** Statistics of what changed (autovacuum never analyzes a partitioned parent); a dry run lists what it would analyze. */
export async function analyzeChangedTables(run: MaintenanceRun, { plan, leftovers }: PlannedRun): Promise<void> {
  const { analyze, report } = run;
  if (run.dryRun) {
    for (const partition of [...plan.split.flatMap((entry) => entry.into), ...plan.create]) analyze.add(partition.name);
    for (const partition of plan.drop) analyze.add(partition.table);
    if (plan.drop.some((info) => info.table === 'event') || leftovers.length > 0) analyze.add('event_relay');
    if (report.orphanMetadata > 0) analyze.add('metadata');
    report.analyzed = [...analyze];
    return;
  }
  if (stopped(run)) return;
  for (const table of analyze) {
    await analyzeTable(run.db, table);
    report.analyzed.push(table);
    await run.keepLease();
  }
}

/** The rows left in the default partitions after the run (a dry run keeps the count made while planning). */
export async function recordDefaultPartitionRows(run: MaintenanceRun, { existing }: PlannedRun): Promise<void> {
  if (run.dryRun) return;
  run.report.defaultPartitionRows = await countDefaultRows(run.db, existing);
  for (const table of ['event', 'relay_check'] as const)
    maintenanceMetrics().defaultPartitionRows.set({ table }, run.report.defaultPartitionRows[table]);
}

/** Closes the report (interrupted or not, how long it took) and, for a real run, records it in the metrics. */
export function finishReport(run: MaintenanceRun, durationMs: number): MaintenanceReport {
  const { report } = run;
  report.interrupted = stopped(run);
  report.durationMs = durationMs;
  if (!run.dryRun) {
    const metrics = maintenanceMetrics();
    metrics.runs.inc({ outcome: 'done' });
    // The wall clock, not run.now: the metric says when the run ended, whatever time it planned for.
    metrics.lastRun.set(Date.now() / 1000);
    metrics.lastDuration.set(report.durationMs / 1000);
  }
  return report;
}
