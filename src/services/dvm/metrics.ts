/** Prometheus metrics of the data vending machine. */
import { Counter, Histogram } from 'prom-client';
import { metricsRegistry } from '../../observability/metrics.js';

let metrics: ReturnType<typeof create> | undefined;

/** Help of bigbrotr_dvm_requests_total: what each outcome means. */
const REQUESTS_HELP =
  'NIP-90 job requests received, by kind and outcome: answered, refused (error feedback: a request we cannot answer), ' +
  'failed (error feedback: our side), ignored (addressed to another provider, encrypted-for-someone-else, bad signature, ' +
  'too old, already answered), rate_limited, queue_full.';

function create() {
  const registers = [metricsRegistry()];
  return {
    requests: new Counter({
      name: 'bigbrotr_dvm_requests_total',
      help: REQUESTS_HELP,
      labelNames: ['kind', 'outcome'],
      registers,
    }),
    jobDuration: new Histogram({
      name: 'bigbrotr_dvm_job_duration_seconds',
      help: 'Time from taking a job to its result being sent, by kind.',
      labelNames: ['kind'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    published: new Counter({
      name: 'bigbrotr_dvm_published_total',
      help: 'Results, feedback and announcements sent, by kind and outcome (accepted by at least one relay, or by none).',
      labelNames: ['kind', 'outcome'],
      registers,
    }),
  };
}

export function dvmMetrics(): ReturnType<typeof create> {
  metrics ??= create();
  return metrics;
}
