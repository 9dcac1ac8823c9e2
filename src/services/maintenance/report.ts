/** What a maintenance run did (or, in a dry run, would do): the report runMaintenance returns and `bigbrotr maintenance` prints. */
import type { PartitionedTable } from '../../db/maintenance.js';
import { iso } from './plan.js';

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

/** The report of a run that has done nothing yet, planned for `now`. */
export function emptyReport(dryRun: boolean, now: Date): MaintenanceReport {
  return {
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
}

/** A partition's range (epoch seconds) as the report's ISO timestamps. */
export function rangeAction(partition: { table: PartitionedTable; name: string; from: number | null; to: number | null }): PartitionAction {
  return { table: partition.table, name: partition.name, from: iso(partition.from), to: iso(partition.to) };
}

/** A partition created (or to be), with the rows of event_default it takes in when it is an event partition. */
export function createdAction(partition: {
  table: PartitionedTable;
  name: string;
  from: number;
  to: number;
  strandedRows?: number;
}): PartitionAction {
  return {
    ...rangeAction(partition),
    ...(partition.strandedRows === undefined ? {} : { strandedRows: partition.strandedRows }),
  };
}
