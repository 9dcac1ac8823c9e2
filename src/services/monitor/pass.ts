/**
 * One monitor pass: what it reports (its summary), what its steps share, and the tools the checks
 * use (HTTP client, DNS resolver, geolocation databases), opened at the start and closed at the end.
 */
import type { Config } from '../../config/schema.js';
import type { Database } from '../../db/database.js';
import type { Logger } from '../../observability/logger.js';
import { createResolver } from '../../relay/screen.js';
import type { RelayUrlFilter } from '../../relay/url-patterns.js';
import type { CheckContext } from './check-relay.js';
import { openGeoDatabases } from './checks/geo.js';
import { createMonitorHttp } from './http-client.js';
import type { Nip66Publishing } from './nip66-publishing.js';
import type { MonitorState } from './state.js';

export interface MonitorPassSummary {
  checked: number;
  up: number;
  down: number;
  skipped: { url: string; reason: string }[];
  published: number;
  publishFailures: number;
  relays: { url: string; up: boolean; reason?: string; checks: number }[];
}

export function emptySummary(): MonitorPassSummary {
  return { checked: 0, up: 0, down: 0, skipped: [], published: 0, publishFailures: 0, relays: [] };
}

/** What the steps of one pass share. */
export interface MonitorPass {
  db: Database;
  config: Config;
  logger: Logger;
  summary: MonitorPassSummary;
  state: MonitorState;
  /** Milliseconds since the epoch: decides when refusals end and when the announcement is due. */
  now: () => number;
  /** The relay_url black- and whitelist. */
  filter: RelayUrlFilter;
  checks: CheckContext;
  /** Undefined when this configuration does not publish NIP-66 events. */
  publishing?: Nip66Publishing;
}

/** The checks' tools for one pass, and how to close them when it ends. */
export async function openCheckTools(
  config: Config,
  options: { ca: string[] | undefined; writeKey: string },
): Promise<{ checks: CheckContext; close: () => Promise<void> }> {
  const monitor = config.monitor;
  const geo = await openGeoDatabases({
    city_database: monitor.geoip_city_database,
    asn_database: monitor.geoip_asn_database,
    geohash_precision: monitor.geohash_precision,
  });
  const http = createMonitorHttp(config.relay, { caFile: monitor.tls_ca_file, connectTimeoutMs: monitor.nip11_timeout_ms });
  const checks: CheckContext = {
    config,
    http,
    resolver: createResolver(monitor.dns_servers, monitor.dns_timeout_ms),
    geo,
    ca: options.ca,
    writeKey: options.writeKey,
  };
  const close = async () => {
    await http.close();
    geo?.close();
  };
  return { checks, close };
}
