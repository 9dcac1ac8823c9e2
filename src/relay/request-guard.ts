/**
 * Politeness and access for one relay: requests are spaced by the relay's current interval; a
 * rate-limit refusal (`rate-limited:` in CLOSED, or a NOTICE saying so, as nostream sends) doubles the
 * interval and retries the same request (bounded); an `auth-required:` refusal is answered with
 * NIP-42 AUTH (kind 22242, signed with the service key) and the request retried once, when a key is
 * configured. Every other refusal goes to the caller. The guard outlives a connection: after a
 * reconnect `attach` the new one, and the pacing learned so far carries over.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { signEvent } from '../nostr/sign.js';
import type { Logger } from '../observability/logger.js';
import type { RelayConnection } from './connection.js';
import { RelayRefusedError } from './errors.js';

export interface RequestGuardOptions {
  minIntervalMs: number;
  rateLimitRetries: number;
  rateLimitDelayMs: number;
  maxDelayMs: number;
  /** Hex secret key for NIP-42; without it an `auth-required:` refusal is final. */
  authSecretKey?: string;
  /** Longest wait for the relay's AUTH challenge and for its OK to our AUTH. */
  authTimeoutMs: number;
  logger: Logger;
  signal?: AbortSignal;
}

export interface RequestGuardStats {
  rateLimited: number;
  authenticated: boolean;
  /** Current spacing between requests, in ms. */
  intervalMs: number;
}

export interface RequestGuard {
  run<T>(request: () => Promise<T>): Promise<T>;
  /** Uses this connection from now on (after a reconnect). */
  attach(connection: RelayConnection): void;
  readonly stats: RequestGuardStats;
}

/** Successful requests after which a raised interval is halved again (towards the configured minimum). */
const RECOVERY_REQUESTS = 20;
const AUTH_KIND = 22242;

export function createRequestGuard(first: RelayConnection, options: RequestGuardOptions): RequestGuard {
  const stats: RequestGuardStats = { rateLimited: 0, authenticated: false, intervalMs: options.minIntervalMs };
  let nextAllowedAt = 0;
  let successes = 0;
  let connection = first;
  let challenge: string | undefined;
  let challengeWaiters: ((challenge: string) => void)[] = [];

  const attach = (next: RelayConnection) => {
    connection = next;
    challenge = next.authChallenge;
    challengeWaiters = [];
    stats.authenticated = false;
    next.on('auth', (received) => {
      if (connection !== next) return;
      challenge = received;
      for (const waiter of challengeWaiters.splice(0)) waiter(received);
    });
  };
  attach(first);

  const waitTurn = async () => {
    const wait = nextAllowedAt - Date.now();
    if (wait > 0) await sleep(wait, undefined, options.signal ? { signal: options.signal } : undefined);
    nextAllowedAt = Date.now() + stats.intervalMs;
  };

  const awaitChallenge = async (): Promise<string | undefined> => {
    if (challenge !== undefined) return challenge;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), options.authTimeoutMs);
      challengeWaiters.push((received) => {
        clearTimeout(timer);
        resolve(received);
      });
    });
  };

  const authenticate = async (): Promise<boolean> => {
    if (options.authSecretKey === undefined) return false;
    const received = await awaitChallenge();
    if (received === undefined) return false;
    const event = signEvent(
      {
        kind: AUTH_KIND,
        tags: [
          ['relay', connection.url],
          ['challenge', received],
        ],
        content: '',
      },
      options.authSecretKey,
    );
    const result = await connection.authenticate(event, options.authTimeoutMs);
    stats.authenticated = result.accepted;
    if (!result.accepted) options.logger.warn({ reason: result.message }, 'relay refused our NIP-42 AUTH');
    else options.logger.info('authenticated to the relay (NIP-42)');
    return result.accepted;
  };

  return {
    stats,
    attach,
    async run(request) {
      let rateLimitedTries = 0;
      let authTried = false;
      for (;;) {
        await waitTurn();
        try {
          const result = await request();
          successes += 1;
          if (successes >= RECOVERY_REQUESTS && stats.intervalMs > options.minIntervalMs) {
            stats.intervalMs = Math.max(options.minIntervalMs, Math.floor(stats.intervalMs / 2));
            successes = 0;
          }
          return result;
        } catch (error) {
          if (!(error instanceof RelayRefusedError)) throw error;
          if (error.refusal.kind === 'rate-limited' && rateLimitedTries < options.rateLimitRetries) {
            rateLimitedTries += 1;
            stats.rateLimited += 1;
            successes = 0;
            stats.intervalMs = Math.min(options.maxDelayMs, Math.max(options.rateLimitDelayMs, stats.intervalMs * 2));
            nextAllowedAt = Date.now() + stats.intervalMs;
            if (stats.rateLimited === 1)
              options.logger.info(
                { intervalMs: stats.intervalMs, message: error.relayMessage.slice(0, 200) },
                'relay rate-limits us; slowing down',
              );
            continue;
          }
          if (error.refusal.kind === 'auth-required' && !authTried) {
            authTried = true;
            if (await authenticate()) continue;
          }
          throw error;
        }
      }
    },
  };
}
