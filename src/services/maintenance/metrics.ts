/** Prometheus metrics of the maintenance service. */
import { Counter, Gauge } from 'prom-client';
import { metricsRegistry } from '../../observability/metrics.js';

let metrics: ReturnType<typeof create> | undefined;

/** Help of bigbrotr_maintenance_default_partition_rows: which rows end up in a default partition. */
const DEFAULT_PARTITION_ROWS_HELP =
  'Rows in the default partition of a table (event, relay_check) after the last maintenance run: ' +
  "rows no partition's range covers (event: dated before 2020 or beyond the partitions created ahead).";

function create() {
  const registers = [metricsRegistry()];
  return {
    partitionsCreated: new Counter({
      name: 'bigbrotr_maintenance_partitions_created_total',
      help: 'Partitions created ahead of time, by table (event, relay_check).',
      labelNames: ['table'],
      registers,
    }),
    partitionsDropped: new Counter({
      name: 'bigbrotr_maintenance_partitions_dropped_total',
      help: 'Partitions dropped by retention, by table (event, relay_check).',
      labelNames: ['table'],
      registers,
    }),
    provenanceRemoved: new Counter({
      name: 'bigbrotr_maintenance_event_relay_removed_total',
      help: 'event_relay rows removed with the events of dropped event partitions.',
      registers,
    }),
    defaultPartitionRows: new Gauge({
      name: 'bigbrotr_maintenance_default_partition_rows',
      help: DEFAULT_PARTITION_ROWS_HELP,
      labelNames: ['table'],
      registers,
    }),
    orphansRemoved: new Counter({
      name: 'bigbrotr_maintenance_orphans_removed_total',
      help: 'Metadata documents removed because no check points to them any more.',
      registers,
    }),
    runs: new Counter({
      name: 'bigbrotr_maintenance_runs_total',
      help: 'Maintenance runs by outcome (done, failed, skipped: another process held the lease).',
      labelNames: ['outcome'],
      registers,
    }),
    lastRun: new Gauge({
      name: 'bigbrotr_maintenance_last_run_timestamp_seconds',
      help: 'Unix time at which the last completed maintenance run ended.',
      registers,
    }),
    lastDuration: new Gauge({
      name: 'bigbrotr_maintenance_last_run_duration_seconds',
      help: 'Duration of the last completed maintenance run.',
      registers,
    }),
  };
}

export function maintenanceMetrics(): ReturnType<typeof create> {
  metrics ??= create();
  return metrics;
}
