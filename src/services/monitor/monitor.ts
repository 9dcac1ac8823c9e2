/**
 * The monitor: every active relay due for a check (its last `open` check older than
 * `monitor.interval_seconds`) is leased, checked (./check-relay.ts), and its checks stored; the
 * synchronizer's circuit breaker hears about relays that do not open; with `monitor.publish`, a
 * signed kind 30166 event per relay and a kind 10166 announcement per pass go to the configured
 * relays and into the archive. `monitor.concurrency` workers share the due list.
 */
import { reachableNetworks } from '../../relay/overlay.js';
import type { Config } from '../../config/schema.js';
import { ConfigError } from '../../config/errors.js';
import { configuredRelayUrls } from '../../config/relay-url-options.js';
import type { Database } from '../../db/database.js';
import { acquireLeases, processOwnerId } from '../../db/leases.js';
import { releaseLeasesQuietly } from '../work-pool.js';
import { dueRelaysForMonitor, liftMonitorBench, storeRelayChecks, type DueRelay } from '../../db/relay-checks.js';
import { recordRelayFailure } from '../../db/relay-health.js';
import { relayClaims } from '../../db/nip-claims.js';
import {
  monitorAnnouncementTemplate,
  monitorProfileTemplate,
  monitorRelayListTemplate,
  relayDiscoveryTemplate,
  type MonitorIdentity,
} from '../../nostr/nip66.js';
import { normalizeRelayUrl } from '../../nostr/relay-url.js';
import { generateSecretKey, signEvent } from '../../nostr/sign.js';
import type { NostrEvent } from '../../nostr/event.js';
import { relayLogger, type Logger } from '../../observability/logger.js';
import { createResolver } from '../../relay/screen.js';
import { relayUrlFilter } from '../../relay/url-patterns.js';
import { getOrCreateRelayIds } from '../../db/relays.js';
import { archivePublished } from '../archive-published.js';
import { periodicService, type Service } from '../service.js';
import { checkRelay, type CheckContext } from './check-relay.js';
import { openGeoDatabases } from './checks/geo.js';
import { createMonitorHttp, trustedCas } from './http-client.js';
import { monitorMetrics } from './metrics.js';
import { EventPublisher } from '../event-publisher.js';

export const MONITOR_SERVICE = 'monitor';

export interface MonitorPassSummary {
  checked: number;
  up: number;
  down: number;
  skipped: { url: string; reason: string }[];
  published: number;
  publishFailures: number;
  relays: { url: string; up: boolean; reason?: string; checks: number }[];
}

export interface MonitorPassOptions {
  db: Database;
  config: Config;
  logger: Logger;
  owner?: string;
  /** Check exactly these relays (added as operator-named if unknown), due or not. */
  urls?: string[];
  signal?: AbortSignal;
  /** Called after each relay (progress line). */
  onRelayDone?: (summary: MonitorPassSummary) => void;
  /**
   * Relays screening refused (blacklist, private address) by id, with the time (ms) before which they
   * are not taken again; kept by the service from pass to pass.
   */
  refusedUntil?: Map<number, number>;
  /**
   * What this process last published as the monitor's kind 0 profile and kind 10002 list (kept by the
   * service from pass to pass): published again only when the configuration changed them. Without
   * it (`monitor --once`), every pass publishes them.
   */
  identityState?: { published?: string };
}

/** Keys for the write check when no identity is configured: one per process, never stored. */
let ephemeralWriteKey: string | undefined;

/** The checks this configuration performs, by their NIP-66 names, with their timeouts. */
export function announcedChecks(config: Config): { checks: string[]; timeoutsMs: Record<string, number> } {
  const monitor = config.monitor;
  const checks = [
    'open',
    'read',
    ...(monitor.write_check ? ['write'] : []),
    'nip11',
    'dns',
    'ssl',
    ...(monitor.geoip_city_database || monitor.geoip_asn_database ? ['geo'] : []),
  ];
  const timeoutsMs: Record<string, number> = {
    open: monitor.open_timeout_ms,
    read: monitor.read_timeout_ms,
    ...(monitor.write_check ? { write: monitor.write_timeout_ms } : {}),
    nip11: monitor.nip11_timeout_ms,
    dns: monitor.dns_timeout_ms,
    ssl: monitor.tls_timeout_ms,
  };
  return { checks, timeoutsMs };
}

/** Publishing needs a key and valid relay URLs: checked before anything runs. */
function publishRelays(config: Config): string[] {
  if (!config.monitor.publish) return [];
  if (!config.identity.secret_key)
    throw new ConfigError([
      {
        path: 'identity.secret_key',
        message: 'required when monitor.publish is on (give it as a file: BIGBROTR_IDENTITY__SECRET_KEY_FILE)',
      },
    ]);
  if (config.monitor.publish_relays.length === 0)
    throw new ConfigError([{ path: 'monitor.publish_relays', message: 'empty, but monitor.publish is on' }]);
  configuredRelayUrls(config.monitor.profile_relays, 'monitor.profile_relays', config);
  return configuredRelayUrls(config.monitor.publish_relays, 'monitor.publish_relays', config);
}

/** The monitor's profile and relay list as configured (the list defaults to where it publishes). */
export function monitorIdentity(config: Config): MonitorIdentity {
  const monitor = config.monitor;
  const relays =
    monitor.profile_relays.length > 0
      ? configuredRelayUrls(monitor.profile_relays, 'monitor.profile_relays', config)
      : publishRelays(config);
  return {
    name: monitor.profile_name,
    about: monitor.profile_about,
    ...(monitor.profile_picture ? { picture: monitor.profile_picture } : {}),
    relays,
  };
}

/** When this process last published its kind 10166 announcement (it is sent at most once per interval). */
let lastAnnouncementAt = 0;

export async function monitorOnce(options: MonitorPassOptions): Promise<MonitorPassSummary> {
  const { db, config, logger } = options;
  const monitor = config.monitor;
  const metrics = monitorMetrics();
  const owner = options.owner ?? processOwnerId();
  const summary: MonitorPassSummary = { checked: 0, up: 0, down: 0, skipped: [], published: 0, publishFailures: 0, relays: [] };
  const publishTo = publishRelays(config);
  const filter = relayUrlFilter(config.relay_url);
  const ca = trustedCas(monitor.tls_ca_file);
  const geo = await openGeoDatabases({
    city_database: monitor.geoip_city_database,
    asn_database: monitor.geoip_asn_database,
    geohash_precision: monitor.geohash_precision,
  });
  const http = createMonitorHttp(config.relay, { caFile: monitor.tls_ca_file, connectTimeoutMs: monitor.nip11_timeout_ms });
  ephemeralWriteKey ??= generateSecretKey();
  const context: CheckContext = {
    config,
    http,
    resolver: createResolver(monitor.dns_servers, monitor.dns_timeout_ms),
    geo,
    ca,
    writeKey: ephemeralWriteKey,
  };
  const publisher = publishTo.length
    ? new EventPublisher(publishTo, config.relay, { timeoutMs: monitor.write_timeout_ms, userAgent: monitor.user_agent, ca, logger })
    : undefined;
  const secretKey = config.identity.secret_key;
  const passStarted = performance.now();
  const refusedUntil = options.refusedUntil ?? new Map<number, number>();
  const refusedNow = (): number[] => {
    const now = Date.now();
    for (const [id, until] of refusedUntil) if (until <= now) refusedUntil.delete(id);
    return [...refusedUntil.keys()];
  };

  const publish = async (event: NostrEvent) => {
    if (!publisher) return;
    const outcome = await publisher.publish(event);
    const accepted = outcome.accepted.length > 0;
    metrics.published.inc({ kind: String(event.kind), outcome: accepted ? 'accepted' : 'rejected' });
    if (accepted) summary.published += 1;
    else summary.publishFailures += 1;
    await archivePublished(db, event, outcome.accepted, logger);
  };

  if (publisher && secretKey) {
    // NIP-66: a monitor SHOULD publish a kind 0 profile and a kind 10002 relay list, so that clients
    // can show who reports and find the reports. At a process's first pass, then when they change.
    const identity = monitorIdentity(config);
    const fingerprint = JSON.stringify(identity);
    if (options.identityState?.published !== fingerprint) {
      const createdAt = Math.floor(Date.now() / 1000);
      await publish(signEvent(monitorProfileTemplate(identity, { createdAt }), secretKey));
      await publish(signEvent(monitorRelayListTemplate(identity, { createdAt }), secretKey));
      if (options.identityState) options.identityState.published = fingerprint;
    }
  }

  let urls: string[] | undefined;
  if (options.urls) {
    urls = [];
    for (const input of options.urls) {
      const normalized = normalizeRelayUrl(input, { maxLength: config.relay_url.max_length });
      if (!normalized.ok)
        throw new ConfigError([{ path: '--relay', message: `${JSON.stringify(input.slice(0, 100))}: ${normalized.message}` }]);
      urls.push(normalized.url);
      await getOrCreateRelayIds(db, [{ url: normalized.url, network: normalized.network }], 'cli');
    }
  }

  const queue: DueRelay[] = [];
  const seen = new Set<number>();
  let exhausted = false;
  let refilling: Promise<void> | undefined;
  const refill = async () => {
    const due = (
      await dueRelaysForMonitor(db, {
        intervalSeconds: monitor.interval_seconds,
        limit: monitor.concurrency * 2,
        service: MONITOR_SERVICE,
        urls,
        exclude: [...seen, ...refusedNow()],
        networks: reachableNetworks(config.relay),
      })
    ).filter((relay) => !seen.has(relay.id));
    if (due.length === 0) {
      exhausted = true;
      return;
    }
    const byId = new Map(due.map((relay) => [String(relay.id), relay]));
    const leased = await acquireLeases(db, {
      service: MONITOR_SERVICE,
      owner,
      candidates: [...byId.keys()],
      limit: due.length,
      ttlMs: monitor.lease_seconds * 1000,
    });
    for (const relay of due) seen.add(relay.id);
    for (const resource of leased) queue.push(byId.get(resource) as DueRelay);
  };
  const next = async (): Promise<DueRelay | undefined> => {
    while (queue.length === 0 && !exhausted && !options.signal?.aborted) {
      refilling ??= refill().finally(() => (refilling = undefined));
      await refilling;
    }
    return options.signal?.aborted ? undefined : queue.shift();
  };

  const checkOne = async (relay: DueRelay) => {
    const log = relayLogger(logger, relay.url);
    const refusal = filter.refusal(relay.url);
    if (refusal) {
      refusedUntil.set(relay.id, Date.now() + monitor.interval_seconds * 1000);
      summary.skipped.push({ url: relay.url, reason: refusal });
      log.debug({ refusal }, 'relay not checked: excluded by relay_url lists');
      return;
    }
    const result = await checkRelay(relay, context);
    if (result.refused) {
      // A policy refusal, not the relay's health: no check rows, no circuit breaker; asked again next interval.
      refusedUntil.set(relay.id, Date.now() + monitor.interval_seconds * 1000);
      summary.skipped.push({ url: relay.url, reason: result.refused });
      log.info({ refusal: result.refused }, 'relay not checked: refused by screening');
      return;
    }
    await storeRelayChecks(db, relay.id, result.records);
    for (const record of result.records) {
      metrics.checks.inc({ check: record.type, outcome: record.ok ? 'ok' : 'failed' });
      if (record.rttMs !== undefined) metrics.checkDuration.observe({ check: record.type }, record.rttMs / 1000);
    }
    metrics.relaysChecked.inc({ status: result.up ? 'up' : 'down' });
    if (monitor.feed_circuit_breaker) {
      if (result.up) await liftMonitorBench(db, relay.id);
      else
        await recordRelayFailure(db, relay.id, `monitor: ${result.reason ?? 'does not open'}`, {
          baseSeconds: config.sync.failure_backoff_seconds,
          maxSeconds: config.sync.failure_backoff_max_seconds,
        });
    }
    summary.checked += 1;
    if (result.up) summary.up += 1;
    else summary.down += 1;
    summary.relays.push({ url: relay.url, up: result.up, reason: result.reason, checks: result.records.length });
    log.debug({ up: result.up, reason: result.reason, checks: result.records.length }, 'relay checked');
    if (publisher && secretKey && Date.now() - lastAnnouncementAt >= monitor.interval_seconds * 1000) {
      lastAnnouncementAt = Date.now();
      await publish(
        signEvent(
          monitorAnnouncementTemplate(
            { frequencySeconds: monitor.interval_seconds, ...announcedChecks(config) },
            { createdAt: Math.floor(Date.now() / 1000) },
          ),
          secretKey,
        ),
      );
    }
    if (publisher && secretKey) {
      // Only what was observed: claims proven or disproven by our own probes and use, never `untested`.
      result.report.claims = (await relayClaims(db, relay.id))
        .filter((claim) => claim.status !== 'untested')
        .map(({ subject, status }) => ({ subject, status: status as 'verified' | 'refuted' }));
    }
    if (publisher && secretKey)
      await publish(
        signEvent(
          relayDiscoveryTemplate(result.report, {
            createdAt: Math.floor(Date.now() / 1000),
            includeNip11Content: monitor.publish_nip11_content,
          }),
          secretKey,
        ),
      );
  };

  try {
    await Promise.all(
      Array.from({ length: monitor.concurrency }, async () => {
        for (let relay = await next(); relay; relay = await next()) {
          try {
            await checkOne(relay);
          } catch (error) {
            relayLogger(logger, relay.url).warn({ err: error }, 'relay check failed; its checks are not stored');
          } finally {
            await releaseLeasesQuietly(db, { service: MONITOR_SERVICE, owner, resources: [String(relay.id)] }, logger);
          }
          options.onRelayDone?.(summary);
        }
      }),
    );
  } finally {
    await publisher?.close();
    await http.close();
    geo?.close();
  }
  metrics.passDuration.observe((performance.now() - passStarted) / 1000);
  await updateRelayGauges(db).catch(() => undefined);
  return summary;
}

async function updateRelayGauges(db: Database): Promise<void> {
  const { rows } = await db.query<{ ok: boolean; relays: string }>(
    `SELECT l.ok, count(*) AS relays FROM relay_metadata_latest l JOIN relay r ON r.id = l.relay_id
     WHERE l.check_type = 'open' AND r.state <> 'retired' GROUP BY l.ok`,
  );
  const gauge = monitorMetrics().relays;
  gauge.set({ status: 'up' }, Number(rows.find((row) => row.ok)?.relays ?? 0));
  gauge.set({ status: 'down' }, Number(rows.find((row) => !row.ok)?.relays ?? 0));
}

export function createMonitorService(options: { db: Database; config: () => Config; logger: Logger }): Service {
  const owner = processOwnerId();
  const refusedUntil = new Map<number, number>();
  const identityState: { published?: string } = {};
  publishRelays(options.config());
  return periodicService({
    name: 'monitor',
    config: options.config,
    logger: options.logger,
    intervalSeconds: (config) => config.monitor.idle_poll_seconds,
    round: async (config, signal) => {
      const summary = await monitorOnce({ db: options.db, config, logger: options.logger, owner, signal, refusedUntil, identityState });
      if (summary.checked > 0)
        options.logger.info(
          { checked: summary.checked, up: summary.up, down: summary.down, published: summary.published },
          'monitor pass done',
        );
    },
  });
}
