/**
 * Retention, whole partitions only: relay_check partitions past their retention are dropped; event
 * partitions are detached first, then their event_relay rows are deleted in batches and the table
 * dropped, so a run stopped half-way leaves a detached table that the next run finishes.
 */
import { uncountExpiredEventTable } from '../../db/archive-counters.js';
import type { Database } from '../../db/database.js';
import {
  EXPIRED_EVENT_PREFIX,
  deleteExpiredProvenanceBatch,
  detachEventPartition,
  dropCheckPartition,
  dropExpiredEventTable,
  type PartitionInfo,
} from '../../db/maintenance.js';
import { maintenanceMetrics } from './metrics.js';
import { rangeAction, type PartitionAction } from './report.js';
import { stopped, type MaintenanceRun } from './run.js';

/**
 * Deletes the event_relay rows of a detached expired event partition in batches, then drops it.
 * Returns the rows deleted, or null when stopped by `signal` (the table stays for the next run).
 */
async function retireExpiredEventTable(db: Database, table: string, run: MaintenanceRun): Promise<number | null> {
  const { settings } = run;
  // Its events leave the archive's counts now (one scan of the detached table), not at the drop.
  await uncountExpiredEventTable(db, table);
  let after = '';
  let removed = 0;
  for (;;) {
    if (stopped(run)) return null;
    const batch = await deleteExpiredProvenanceBatch(db, table, after, settings.batch_size);
    removed += batch.links;
    maintenanceMetrics().provenanceRemoved.inc(batch.links);
    if (batch.lastIdHex === null || batch.events < settings.batch_size) break;
    after = batch.lastIdHex;
    await run.keepLease();
  }
  await dropExpiredEventTable(db, table, settings.lock_timeout_ms);
  return removed;
}

/** Retires a detached table and counts its event_relay rows in the report; null when the run was stopped first. */
async function retireAndCount(run: MaintenanceRun, table: string): Promise<number | null> {
  const removed = await retireExpiredEventTable(run.db, table, run);
  if (removed === null) return null;
  run.report.eventRelayRemoved = (run.report.eventRelayRemoved ?? 0) + removed;
  run.analyze.add('event_relay');
  return removed;
}

/** Detached event tables left by an interrupted run: their retention is finished first. */
export async function finishInterruptedRetention(run: MaintenanceRun, leftovers: string[]): Promise<void> {
  for (const table of leftovers) {
    if (stopped(run)) break;
    run.report.dropped.push({ table: 'event', name: table.slice(EXPIRED_EVENT_PREFIX.length), from: null, to: null });
    if (run.dryRun) continue;
    run.logger.info({ table }, `finishing the retention of ${table} left by an interrupted run`);
    if ((await retireAndCount(run, table)) === null) break;
  }
}

/** A relay_check partition past its retention, dropped in one statement. */
async function dropExpiredCheckPartition(run: MaintenanceRun, partition: PartitionInfo, action: PartitionAction): Promise<void> {
  if (!(await dropCheckPartition(run.db, partition.name, run.settings.lock_timeout_ms))) return;
  run.report.dropped.push(action);
  maintenanceMetrics().partitionsDropped.inc({ table: 'relay_check' });
  run.analyze.add('relay_check');
  run.logger.info({ partition: partition.name, rows: partition.estimatedRows }, `dropped partition ${partition.name} (check retention)`);
}

/**
 * An event partition past its retention: detached, then retired. 'stopped' when the run was stopped
 * while its event_relay rows were being removed (the detached table waits for the next run).
 */
async function dropExpiredEventPartition(
  run: MaintenanceRun,
  partition: PartitionInfo,
  action: PartitionAction,
): Promise<'not detached' | 'dropped' | 'stopped'> {
  const detached = await detachEventPartition(run.db, partition.name, run.settings.lock_timeout_ms);
  if (detached === null) return 'not detached';
  run.report.dropped.push(action);
  maintenanceMetrics().partitionsDropped.inc({ table: 'event' });
  run.analyze.add('event');
  run.logger.info(
    { partition: partition.name, rows: partition.estimatedRows },
    `detached partition ${partition.name} (event retention); removing its event_relay rows`,
  );
  const removed = await retireAndCount(run, detached);
  if (removed === null) return 'stopped';
  run.logger.info({ partition: partition.name, eventRelayRemoved: removed }, `dropped partition ${partition.name}`);
  return 'dropped';
}

/** The partitions the plan found past their retention; a dry run lists them. */
export async function dropExpiredPartitions(run: MaintenanceRun, drops: PartitionInfo[]): Promise<void> {
  for (const partition of drops) {
    if (stopped(run)) break;
    const action: PartitionAction = { ...rangeAction(partition), estimatedRows: partition.estimatedRows };
    if (run.dryRun) {
      run.report.dropped.push(action);
      continue;
    }
    if (partition.table === 'relay_check') await dropExpiredCheckPartition(run, partition, action);
    else {
      const outcome = await dropExpiredEventPartition(run, partition, action);
      if (outcome === 'stopped') break;
      if (outcome === 'not detached') continue;
    }
    await run.keepLease();
  }
}
