/**
 * A relay session configured the way every service reads relays: the synchronizer's pacing,
 * rate-limit and AUTH handling, event limits, page byte budget and COUNT timeout.
 */
import type { Config } from '../config/schema.js';
import { eventLimitsFrom } from '../config/limits.js';
import type { Logger } from '../observability/logger.js';
import { RelaySession } from '../relay/session.js';

export function openRelaySession(url: string, config: Config, logger: Logger, options: { signal?: AbortSignal; maxReconnects?: number } = {}): Promise<RelaySession> {
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
  });
}
