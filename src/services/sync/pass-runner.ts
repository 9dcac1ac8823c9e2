/**
 * A relay pass with retries: network errors (unreachable, connection lost, timeouts) are retried with
 * exponential backoff and jitter, each attempt resuming from the committed cursor; protocol errors,
 * refusals and invalid data are not retried. Database errors are not the relay's fault and go up to
 * the caller unchanged.
 */
import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import { errorType, isRetryableRelayError } from '../../relay/errors.js';
import { traceRelaySync } from '../../observability/tracing.js';
import { syncMetrics } from './metrics.js';
import { PassAbortedError, syncRelayPass, type RelaySyncOptions, type RelaySyncResult } from './relay-sync.js';
import { emptyStoreTotals } from './store-batch.js';

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
