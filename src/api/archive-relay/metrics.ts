/** The archive relay's Prometheus metrics, registered once per process however many relays are attached. */
import { Counter, Gauge } from 'prom-client';
import { metricsRegistry } from '../../observability/metrics.js';

export type RelayMetrics = ReturnType<typeof createMetrics>;

let metrics: RelayMetrics | undefined;

function createMetrics() {
  const registers = [metricsRegistry()];
  return {
    connections: new Gauge({
      name: 'bigbrotr_archive_relay_connections',
      help: 'Open WebSocket connections to the archive relay.',
      registers,
    }),
    requests: new Counter({
      name: 'bigbrotr_archive_relay_requests_total',
      help:
        'Messages from archive relay clients by type ' +
        '(req, count, event, close; invalid for anything refused before it was understood).',
      labelNames: ['type'],
      registers,
    }),
    eventsSent: new Counter({ name: 'bigbrotr_archive_relay_events_sent_total', help: 'Events sent to archive relay clients.', registers }),
    dropped: new Counter({
      name: 'bigbrotr_archive_relay_dropped_total',
      help: 'Archive relay clients disconnected because they did not read their replies (past relay_send_budget_bytes).',
      registers,
    }),
    refused: new Counter({
      name: 'bigbrotr_archive_relay_refused_total',
      help: 'Archive relay connections refused, by reason (per-address: relay_max_connections_per_address).',
      labelNames: ['reason'],
      registers,
    }),
  };
}

export function relayMetrics(): RelayMetrics {
  metrics ??= createMetrics();
  return metrics;
}
