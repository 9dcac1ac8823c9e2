/** What the test relay counts, for tests and benchmarks to assert on (how many REQs, events, connections). */
import type { Filter } from './filter.js';

export interface TestRelayCounters {
  connections: number;
  reqs: { subId: string; filters: Filter[] }[];
  eventsSent: number;
  eventsReceived: number;
  oks: number;
  auths: number;
  /** TCP connections accepted (HTTP requests for NIP-11 and WebSocket upgrades alike). */
  tcpConnections: number;
  /** Most subscriptions one connection held open at once. */
  peakSubscriptions: number;
}

export function emptyCounters(): TestRelayCounters {
  return {
    connections: 0,
    reqs: [],
    eventsSent: 0,
    eventsReceived: 0,
    oks: 0,
    auths: 0,
    tcpConnections: 0,
    peakSubscriptions: 0,
  };
}
