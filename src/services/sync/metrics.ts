/** Prometheus metrics of the synchronizer (no per-relay labels: thousands of relays would explode cardinality). */
import { Counter, Histogram } from 'prom-client';
import { metricsRegistry } from '../../observability/metrics.js';

let metrics: ReturnType<typeof create> | undefined;

function create() {
  const registers = [metricsRegistry()];
  return {
    eventsStored: new Counter({ name: 'bigbrotr_sync_events_stored_total', help: 'Events stored for the first time.', registers }),
    relayLinks: new Counter({ name: 'bigbrotr_sync_event_relay_links_total', help: 'New (event, relay) provenance rows.', registers }),
    eventsRejected: new Counter({ name: 'bigbrotr_sync_events_rejected_total', help: 'Events refused, by reason.', labelNames: ['reason'], registers }),
    pages: new Counter({ name: 'bigbrotr_sync_pages_total', help: 'REQ and COUNT pages asked.', registers }),
    passes: new Counter({ name: 'bigbrotr_sync_passes_total', help: 'Relay passes by outcome.', labelNames: ['outcome'], registers }),
    passSeconds: new Histogram({ name: 'bigbrotr_sync_pass_duration_seconds', help: 'Duration of one relay pass.', buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 1800, 7200], registers }),
  };
}

export function syncMetrics(): ReturnType<typeof create> {
  metrics ??= create();
  return metrics;
}
