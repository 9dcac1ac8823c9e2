/** What the message handlers share across connections: the archive, the limits, and the relay-wide parts. */
import type { ApiConfig } from '../../config/schema.js';
import type { Database } from '../../db/database.js';
import type { FilterBounds } from '../../nostr/client-filters.js';
import type { Logger } from '../../observability/logger.js';
import type { EventStreamer } from './event-stream.js';
import type { LiveTail } from './live-tail.js';
import type { RelayMetrics } from './metrics.js';
import type { RequestRate } from './request-rate.js';

export interface RelayContext {
  db: Database;
  api: ApiConfig;
  log: Logger;
  metrics: RelayMetrics;
  statementTimeoutMs: number;
  /** The relay's limits on a REQ's or COUNT's filters. */
  filterBounds: FilterBounds;
  requestRate: RequestRate;
  streamer: EventStreamer;
  liveTail: LiveTail;
}
