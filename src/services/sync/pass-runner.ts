/**
 * A relay pass with retries: network errors (unreachable, connection lost, timeouts) are retried with
 * exponential backoff and jitter, each attempt resuming from the committed cursor; protocol errors,
 * refusals and invalid data are not retried. Database errors are not the relay's fault and go up to
 * the caller unchanged.
 */
import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import { DatabaseError } from '../../db/errors.js';
import { RelayNetworkError, RelayPolicyError, RelayProtocolError, RelayRefusedError, RelayTimeoutError } from '../../relay/errors.js';
import { traceRelaySync } from '../../observability/tracing.js';
import { syncMetrics } from './metrics.js';
import { PassAbortedError, syncRelayPass, type RelaySyncOptions, type RelaySyncResult } from './relay-sync.js';
import { emptyStoreTotals } from './store-pipeline.js';

/** The machine-readable prefixes of NIP-01; anything else a relay invents is counted as `other`. */
const KNOWN_PREFIXES = new Set([
  'rate-limited',
  'auth-required',
  'restricted',
  'blocked',
  'invalid',
  'error',
  'pow',
  'duplicate',
  'mute',
  'unsupported',
]);

/** A low-cardinality name for a failure, for metrics. */
export function errorType(error: unknown): string {
  if (error instanceof RelayRefusedError) return `refused:${KNOWN_PREFIXES.has(error.prefix ?? '') ? error.prefix : 'other'}`;
  if (error instanceof RelayPolicyError) return 'policy';
  if (error instanceof RelayTimeoutError) return 'timeout';
  if (error instanceof RelayNetworkError) return 'network';
  if (error instanceof RelayProtocolError) return 'protocol';
  if (error instanceof DatabaseError) return 'database';
  return 'other';
}

export function isRetryableRelayError(error: unknown): boolean {
  return error instanceof RelayNetworkError;
}

/** One pass with its retries, in a `sync.relay` span (a no-op unless tracing is on). */
export function syncRelayWithRetries(options: RelaySyncOptions): Promise<RelaySyncResult & { attempts: number }> {
  return traceRelaySync(options.relay.url, () => runWithRetries(options), {
    isStop: (error) => error instanceof PassAbortedError,
    errorType,
  });
}

async function runWithRetries(options: RelaySyncOptions): Promise<RelaySyncResult & { attempts: number }> {
  const { config, logger } = options;
  const totals = options.totals ?? emptyStoreTotals();
  const policy = retry(handleWhen(isRetryableRelayError), {
    maxAttempts: config.sync.retry_attempts,
    backoff: new ExponentialBackoff({ initialDelay: config.sync.retry_initial_delay_ms, maxDelay: config.sync.retry_max_delay_ms }),
  });
  const listener = policy.onRetry((event) => {
    const reason = 'error' in event ? (event.error as Error).message : 'unexpected result';
    logger.warn(
      { delayMs: Math.round(event.delay), attempt: event.attempt, reason },
      'relay pass interrupted by a network error; retrying from the cursor',
    );
  });
  let attempts = 0;
  try {
    const result = await policy.execute(async () => {
      attempts += 1;
      return syncRelayPass({ ...options, totals });
    }, options.signal);
    return { ...result, attempts };
  } catch (error) {
    if (config.sync.per_relay_metrics && !(error instanceof PassAbortedError))
      syncMetrics().relayErrors.inc({ relay: options.relay.url, type: errorType(error) });
    throw error;
  } finally {
    listener.dispose();
  }
}
