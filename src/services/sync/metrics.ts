/**
 * Prometheus metrics of the synchronizer. Aggregates carry no relay label; the per-relay series
 * (events by outcome, errors by type, lag) can be switched off with `sync.per_relay_metrics` where
 * thousands of relays would make too many series.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import { metricsRegistry } from '../../observability/metrics.js';

let metrics: ReturnType<typeof create> | undefined;

/** Help of bigbrotr_sync_relay_events_total: what each outcome counts. */
const RELAY_EVENTS_HELP =
  'Events per relay by outcome: received (shape-valid, in filter), stored (new to the archive), ' +
  'duplicate (already archived), invalid (bad id, signature or shape).';

/** Help of bigbrotr_sync_incomplete_total: the reasons a scope stays unproven. */
const INCOMPLETE_HELP =
  'Scopes a pass could not prove, by reason: refused, stalled (no EOSE), crowded (a second over the cap), ' +
  'ignores-time, request-bound, time-budget, withheld, unreconciled (NIP-77 fell back to REQ).';

function create() {
  const registers = [metricsRegistry()];
  return {
    eventsStored: new Counter({ name: 'bigbrotr_sync_events_stored_total', help: 'Events stored for the first time.', registers }),
    relayLinks: new Counter({ name: 'bigbrotr_sync_event_relay_links_total', help: 'New (event, relay) provenance rows.', registers }),
    eventsRejected: new Counter({
      name: 'bigbrotr_sync_events_rejected_total',
      help: 'Events refused, by reason.',
      labelNames: ['reason'],
      registers,
    }),
    pages: new Counter({ name: 'bigbrotr_sync_pages_total', help: 'REQ and COUNT pages asked.', registers }),
    passes: new Counter({ name: 'bigbrotr_sync_passes_total', help: 'Relay passes by outcome.', labelNames: ['outcome'], registers }),
    passSeconds: new Histogram({
      name: 'bigbrotr_sync_pass_duration_seconds',
      help: 'Duration of one relay pass.',
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 1800, 7200],
      registers,
    }),
    relayEvents: new Counter({
      name: 'bigbrotr_sync_relay_events_total',
      help: RELAY_EVENTS_HELP,
      labelNames: ['relay', 'outcome'],
      registers,
    }),
    relayErrors: new Counter({
      name: 'bigbrotr_sync_relay_errors_total',
      help: 'Failed relay passes by relay and error type (network, timeout, refused:<prefix>, protocol, database, other).',
      labelNames: ['relay', 'type'],
      registers,
    }),
    refusals: new Counter({
      name: 'bigbrotr_sync_refusals_total',
      help: 'Requests relays refused (CLOSED, or a NOTICE answering them); rate limits and AUTH included.',
      registers,
    }),
    problems: new Counter({
      name: 'bigbrotr_sync_incomplete_total',
      help: INCOMPLETE_HELP,
      labelNames: ['reason'],
      registers,
    }),
    relayOwed: new Gauge({
      name: 'bigbrotr_sync_relay_owed_windows',
      help: "Windows of the relay's history not proven archived after its last pass (retried by later passes).",
      labelNames: ['relay'],
      registers,
    }),
    relayLag: new Gauge({
      name: 'bigbrotr_sync_relay_lag_seconds',
      help: 'Seconds between now and the time up to which the relay is completely archived, after its last pass.',
      labelNames: ['relay'],
      registers,
    }),
  };
}

export function syncMetrics(): ReturnType<typeof create> {
  metrics ??= create();
  return metrics;
}
