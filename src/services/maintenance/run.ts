/**
 * A maintenance run's state, shared by its steps (steps.ts, retention.ts): where it works, the time
 * it plans for, the report it fills in and the tables whose statistics it changed; and its first
 * step, reading the partitions and planning.
 */
import type { MaintenanceConfig } from '../../config/schema.js';
import type { Database } from '../../db/database.js';
import {
  countRowsUpTo,
  defaultPartitionRows,
  listExpiredEventTables,
  listPartitions,
  type PartitionInfo,
  type PartitionedTable,
} from '../../db/maintenance.js';
import type { Logger } from '../../observability/logger.js';
import { planPartitions, splitCandidates, strandedScanRange, type MaintenancePlan } from './plan.js';
import type { MaintenanceReport } from './report.js';

export interface MaintenanceRun {
  db: Database;
  settings: MaintenanceConfig;
  logger: Logger;
  dryRun: boolean;
  /** The time every decision of the run is made for (the plan, the orphans' grace period). */
  now: Date;
  signal: AbortSignal | undefined;
  /** Event partitions holding more rows are not split (SPLIT_MAX_ROWS; tests lower it). */
  splitMaxRows: number;
  /** Renews the maintenance lease when due; throws once it is lost. */
  keepLease: () => Promise<void>;
  report: MaintenanceReport;
  /** Tables whose statistics changed (analyzed at the end; in a dry run, those that would be). */
  analyze: Set<string>;
}

export type ExistingPartitions = Record<PartitionedTable, PartitionInfo[]>;

/** What the run works through: the plan, the partitions it was made from and detached tables left by an interrupted run. */
export interface PlannedRun {
  plan: MaintenancePlan;
  existing: ExistingPartitions;
  leftovers: string[];
}

export function stopped(run: MaintenanceRun): boolean {
  return run.signal?.aborted === true;
}

function defaultName(partitions: PartitionInfo[]): string | undefined {
  return partitions.find((info) => info.isDefault)?.name;
}

export async function countDefaultRows(db: Database, existing: ExistingPartitions): Promise<Record<PartitionedTable, number>> {
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
  existing: ExistingPartitions,
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

/** Lists the partitions, plans for `run.now` and notes the default partitions' rows and the plan's warnings in the report. */
export async function planRun(run: MaintenanceRun): Promise<PlannedRun> {
  const { db } = run;
  const existing = { event: await listPartitions(db, 'event'), relay_check: await listPartitions(db, 'relay_check') };
  const { plan, defaultRows } = await gatherPlan(db, existing, run.settings, run.now, run.splitMaxRows);
  run.report.defaultPartitionRows = defaultRows;
  run.report.warnings.push(...plan.warnings);
  const leftovers = await listExpiredEventTables(db);
  return { plan, existing, leftovers };
}
