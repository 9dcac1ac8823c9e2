/**
 * A relay session configured the way every service reads relays: the synchronizer's pacing,
 * rate-limit and AUTH handling, event limits, page byte budget and COUNT timeout.
 */
import type { Resolver } from 'node:dns/promises';
import type { Config } from '../config/schema.js';
import { eventLimitsFrom } from '../config/limits.js';
import type { Logger } from '../observability/logger.js';
import { screenHost } from '../relay/address-policy.js';
import { proxyRoute } from '../relay/overlay.js';
import { RelayNetworkError, RelayPolicyError } from '../relay/errors.js';
import { createResolver } from '../relay/screen.js';
import { RelaySession } from '../relay/session.js';

const resolvers = new Map<string, Resolver>();

/** The resolver for relay hosts (`monitor.dns_servers`, or the system's), one per process and setting. */
export function relayResolver(config: Config): Resolver {
  const key = `${config.monitor.dns_servers.join(',')}|${config.monitor.dns_timeout_ms}`;
  let resolver = resolvers.get(key);
  if (!resolver) {
    resolver = createResolver(config.monitor.dns_servers, config.monitor.dns_timeout_ms);
    resolvers.set(key, resolver);
  }
  return resolver;
}

export interface RelaySessionRequest {
  signal?: AbortSignal;
  maxReconnects?: number;
  /**
   * The operator named this relay (seed file, config, --relay): any address is accepted. Otherwise
   * the outbound policy screens its host and the connection goes to exactly the addresses screened.
   */
  trusted: boolean;
}

/** Screens a relay's host by the outbound policy; the addresses to connect to (empty: by name). */
export async function relayAddresses(url: string, config: Config, trusted: boolean): Promise<string[]> {
  const host = new URL(url).hostname;
  // Through a proxy the proxy resolves the name: nothing to pin here.
  if (proxyRoute(host, config.relay).proxy !== undefined) return [];
  const screened = await screenHost(host, { trusted: trusted || config.relay_url.allow_private, resolver: relayResolver(config) });
  if (screened.ok) return screened.addresses;
  if (screened.refusal) throw new RelayPolicyError(url, screened.refusal, screened.detail);
  throw new RelayNetworkError(url, `cannot connect: ${screened.detail}`);
}

export async function openRelaySession(url: string, config: Config, logger: Logger, options: RelaySessionRequest): Promise<RelaySession> {
  const addresses = await relayAddresses(url, config, options.trusted);
  return RelaySession.open({
    url,
    config: config.relay,
    guard: {
      minIntervalMs: config.sync.min_request_interval_ms,
      rateLimitRetries: config.sync.rate_limit_retries,
      rateLimitDelayMs: config.sync.rate_limit_delay_ms,
      maxDelayMs: config.sync.retry_max_delay_ms,
      ...(config.identity.secret_key ? { authSecretKey: config.identity.secret_key } : {}),
      authTimeoutMs: config.relay.request_timeout_ms,
      logger,
      ...(options.signal ? { signal: options.signal } : {}),
    },
    eventLimits: eventLimitsFrom(config.limits),
    maxPageBytes: config.sync.max_page_bytes,
    countTimeoutMs: config.sync.count_timeout_ms,
    maxReconnects: options.maxReconnects ?? config.sync.max_reconnects_per_pass,
    ...(addresses.length > 0 ? { addresses } : {}),
  });
}
