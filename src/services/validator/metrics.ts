/** Prometheus metrics of the validator. */
import { Counter } from 'prom-client';
import { metricsRegistry } from '../../observability/metrics.js';

let metrics: ReturnType<typeof create> | undefined;

function create() {
  const registers = [metricsRegistry()];
  return {
    probes: new Counter({
      name: 'bigbrotr_validator_probes_total',
      help: 'Candidate probes by outcome (promoted, failed, refused).',
      labelNames: ['outcome'],
      registers,
    }),
    refused: new Counter({
      name: 'bigbrotr_validator_refused_total',
      help: 'Candidates refused by screening, by reason (blacklisted, not-whitelisted, private-address, local-name).',
      labelNames: ['reason'],
      registers,
    }),
    retired: new Counter({
      name: 'bigbrotr_validator_retired_total',
      help: 'Candidates retired (refused, or failing for too long).',
      registers,
    }),
  };
}

export function validatorMetrics(): ReturnType<typeof create> {
  metrics ??= create();
  return metrics;
}
