/** Prometheus metrics of the monitor. */
import { Counter, Gauge, Histogram } from 'prom-client';
import { metricsRegistry } from '../../observability/metrics.js';

let metrics: ReturnType<typeof create> | undefined;

function create() {
  const registers = [metricsRegistry()];
  return {
    checks: new Counter({
      name: 'bigbrotr_monitor_checks_total',
      help: 'Relay checks by type (nip11, open, read, write, dns, ssl, geo, requirements) and outcome (ok, failed).',
      labelNames: ['check', 'outcome'],
      registers,
    }),
    checkDuration: new Histogram({
      name: 'bigbrotr_monitor_check_duration_seconds',
      help: 'Duration of relay checks by type (round trip when answered, time to failure otherwise).',
      labelNames: ['check'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    relays: new Gauge({
      name: 'bigbrotr_monitor_relays',
      help: 'Relays (not retired) by the outcome of their latest open check (up, down).',
      labelNames: ['status'],
      registers,
    }),
    relaysChecked: new Counter({
      name: 'bigbrotr_monitor_relays_checked_total',
      help: 'Relays checked, by result of the open check (up, down).',
      labelNames: ['status'],
      registers,
    }),
    published: new Counter({
      name: 'bigbrotr_monitor_published_total',
      help: 'NIP-66 events sent, by kind and outcome (accepted by at least one relay, or rejected by all).',
      labelNames: ['kind', 'outcome'],
      registers,
    }),
    passDuration: new Histogram({
      name: 'bigbrotr_monitor_pass_duration_seconds',
      help: 'Duration of one monitor pass over the due relays.',
      buckets: [1, 5, 15, 30, 60, 120, 300, 900, 1800, 3600],
      registers,
    }),
  };
}

export function monitorMetrics(): ReturnType<typeof create> {
  metrics ??= create();
  return metrics;
}
