/**
 * The monitor: every active relay due for a check (its last `open` check older than
 * `monitor.interval_seconds`) is leased, checked (./check-relay.ts), and its checks stored; the
 * synchronizer's circuit breaker hears about relays that do not open; with `monitor.publish`, a
 * signed kind 30166 event per relay and a kind 10166 announcement per pass go to the configured
 * relays and into the archive. `monitor.concurrency` workers share the due list.
 */
import type { Config } from '../../config/schema.js';
import type { Database } from '../../db/database.js';
import { processOwnerId } from '../../db/leases.js';
import { relaysByLatestOpenCheck } from '../../db/monitor-relay-counts.js';
import type { DueRelay } from '../../db/relay-checks.js';
import { getOrCreateRelayIds } from '../../db/relays.js';
import { networkOfHost } from '../../nostr/relay-url.js';
import { relayLogger, type Logger } from '../../observability/logger.js';
import { relayUrlFilter } from '../../relay/url-patterns.js';
import { periodicService, type Service, type ServiceOptions } from '../service.js';
import { releaseLeasesQuietly, runWorkers } from '../work-pool.js';
import { dueRelayQueue } from './due-queue.js';
import { trustedCas } from './http-client.js';
import { monitorMetrics } from './metrics.js';
import { Nip66Publishing, publishRelays } from './nip66-publishing.js';
import { emptySummary, openCheckTools, type MonitorPass, type MonitorPassSummary } from './pass.js';
import { monitorRelay } from './relay-step.js';
import { createMonitorState, refusedRelayIds, type MonitorState } from './state.js';

export { announcedChecks, monitorIdentity } from './nip66-publishing.js';
export type { MonitorPassSummary } from './pass.js';
export { createMonitorState, type MonitorState } from './state.js';

export const MONITOR_SERVICE = 'monitor';

export interface MonitorPassOptions {
  db: Database;
  config: Config;
  logger: Logger;
  owner?: string;
  /** Check exactly these relays (added as operator-named if unknown), due or not: normalised URLs (the CLI normalises --relay). */
  urls?: string[];
  signal?: AbortSignal;
  /** Called after each relay (progress line). */
  onRelayDone?: (summary: MonitorPassSummary) => void;
  /**
   * What the monitor keeps from pass to pass (refused relays, the identity it published, when it last
   * announced itself, its write-check key); kept by the service. Without it (`monitor --once`), a pass
   * starts afresh: it publishes the profile, relay list and announcement, and asks refused relays again.
   */
  state?: MonitorState;
  /** The clock (ms since the epoch) deciding refusals, the announcement interval and the events' created_at. */
  now?: () => number;
}

export async function monitorOnce(options: MonitorPassOptions): Promise<MonitorPassSummary> {
  const { db, config, logger } = options;
  const owner = options.owner ?? processOwnerId();
  const state = options.state ?? createMonitorState();
  const now = options.now ?? Date.now;
  const summary = emptySummary();
  publishRelays(config); // a publishing configuration that cannot work fails before anything opens
  const filter = relayUrlFilter(config.relay_url);
  const ca = trustedCas(config.monitor.tls_ca_file);
  const tools = await openCheckTools(config, { ca, writeKey: state.writeKey });
  const publishing = Nip66Publishing.open({ db, config, logger, tally: summary, state, now }, ca);
  const pass: MonitorPass = { db, config, logger, summary, state, now, filter, checks: tools.checks, publishing };
  const passStarted = performance.now();
  try {
    await publishing?.publishIdentityIfChanged();
    const urls = options.urls && (await registerNamedRelays(db, options.urls));
    const service = MONITOR_SERVICE;
    const refused = () => refusedRelayIds(state, now());
    const nextDue = dueRelayQueue({ db, config, service, owner, urls, refused, signal: options.signal });
    await runWorkers(config.monitor.concurrency, nextDue, async (relay) => {
      await monitorRelayAndRelease(pass, relay, owner);
      options.onRelayDone?.(summary);
    });
  } finally {
    await publishing?.close();
    await tools.close();
  }
  monitorMetrics().passDuration.observe((performance.now() - passStarted) / 1000);
  // The gauge is a convenience: a database hiccup here must not fail a pass whose checks are stored.
  await updateRelayGauges(db).catch((error: unknown) => logger.warn({ err: error }, 'could not update the relays up/down gauge'));
  return summary;
}

/** The operator's relays are known to the archive before they are looked up (source `cli`). */
async function registerNamedRelays(db: Database, urls: string[]): Promise<string[]> {
  for (const url of urls) await getOrCreateRelayIds(db, [{ url, network: networkOfHost(new URL(url).hostname) }], 'cli');
  return urls;
}

/** A failed relay is logged and the pass goes on; its lease is given back either way. */
async function monitorRelayAndRelease(pass: MonitorPass, relay: DueRelay, owner: string): Promise<void> {
  try {
    await monitorRelay(pass, relay);
  } catch (error) {
    relayLogger(pass.logger, relay.url).warn({ err: error }, 'relay check failed; its checks are not stored');
  } finally {
    await releaseLeasesQuietly(pass.db, { service: MONITOR_SERVICE, owner, resources: [String(relay.id)] }, pass.logger);
  }
}

async function updateRelayGauges(db: Database): Promise<void> {
  const counts = await relaysByLatestOpenCheck(db);
  const gauge = monitorMetrics().relays;
  gauge.set({ status: 'up' }, counts.up);
  gauge.set({ status: 'down' }, counts.down);
}

export function createMonitorService(options: ServiceOptions & { now?: () => number }): Service {
  const owner = processOwnerId();
  const state = createMonitorState();
  publishRelays(options.config());
  return periodicService(options, {
    name: 'monitor',
    intervalSeconds: (config) => config.monitor.idle_poll_seconds,
    round: async (config, signal) => {
      const summary = await monitorOnce({ db: options.db, config, logger: options.logger, owner, signal, state, now: options.now });
      if (summary.checked > 0)
        options.logger.info(
          { checked: summary.checked, up: summary.up, down: summary.down, published: summary.published },
          'monitor pass done',
        );
    },
  });
}
