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
  return new PacedRequestGuard(first, options);
}

class PacedRequestGuard implements RequestGuard {
  readonly stats: RequestGuardStats;
  private nextAllowedAt = 0;
  private successes = 0;
  private connection: RelayConnection;
  private challenge: string | undefined;
  private challengeWaiters: ((challenge: string) => void)[] = [];

  constructor(
    first: RelayConnection,
    private readonly options: RequestGuardOptions,
  ) {
    this.stats = { rateLimited: 0, authenticated: false, intervalMs: options.minIntervalMs };
    this.connection = first;
    this.attach(first);
  }

  attach(next: RelayConnection): void {
    this.connection = next;
    this.challenge = next.authChallenge;
    this.challengeWaiters = [];
    this.stats.authenticated = false;
    next.on('auth', (received) => {
      if (this.connection !== next) return;
      this.challenge = received;
      for (const waiter of this.challengeWaiters.splice(0)) waiter(received);
    });
  }

  async run<T>(request: () => Promise<T>): Promise<T> {
    let rateLimitedTries = 0;
    let authTried = false;
    for (;;) {
      await this.waitTurn();
      try {
        const result = await request();
        this.recordSuccess();
        return result;
      } catch (error) {
        if (!(error instanceof RelayRefusedError)) throw error;
        if (error.refusal.kind === 'rate-limited' && rateLimitedTries < this.options.rateLimitRetries) {
          rateLimitedTries += 1;
          this.slowDown(error);
          continue;
        }
        if (error.refusal.kind === 'auth-required' && !authTried) {
          authTried = true;
          if (await this.authenticate()) continue;
        }
        throw error;
      }
    }
  }

  private async waitTurn(): Promise<void> {
    const wait = this.nextAllowedAt - Date.now();
    if (wait > 0) await sleep(wait, undefined, this.options.signal ? { signal: this.options.signal } : undefined);
    this.nextAllowedAt = Date.now() + this.stats.intervalMs;
  }

  /** After enough answered requests in a row, a raised interval is halved again towards the minimum. */
  private recordSuccess(): void {
    this.successes += 1;
    if (this.successes >= RECOVERY_REQUESTS && this.stats.intervalMs > this.options.minIntervalMs) {
      this.stats.intervalMs = Math.max(this.options.minIntervalMs, Math.floor(this.stats.intervalMs / 2));
      this.successes = 0;
    }
  }

  /** A rate-limit refusal doubles the interval (within the configured bounds) before the same request is retried. */
  private slowDown(error: RelayRefusedError): void {
    const { stats, options } = this;
    stats.rateLimited += 1;
    this.successes = 0;
    stats.intervalMs = Math.min(options.maxDelayMs, Math.max(options.rateLimitDelayMs, stats.intervalMs * 2));
    this.nextAllowedAt = Date.now() + stats.intervalMs;
    if (stats.rateLimited === 1)
      options.logger.info(
        { intervalMs: stats.intervalMs, message: error.relayMessage.slice(0, 200) },
        'relay rate-limits us; slowing down',
      );
  }

  private awaitChallenge(): Promise<string | undefined> {
    if (this.challenge !== undefined) return Promise.resolve(this.challenge);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), this.options.authTimeoutMs);
      this.challengeWaiters.push((received) => {
        clearTimeout(timer);
        resolve(received);
      });
    });
  }

  private async authenticate(): Promise<boolean> {
    const { options } = this;
    if (options.authSecretKey === undefined) return false;
    const received = await this.awaitChallenge();
    if (received === undefined) return false;
    const tags = [
      ['relay', this.connection.url],
      ['challenge', received],
    ];
    const event = signEvent({ kind: AUTH_KIND, tags, content: '' }, options.authSecretKey);
    const result = await this.connection.authenticate(event, options.authTimeoutMs);
    this.stats.authenticated = result.accepted;
    if (!result.accepted) options.logger.warn({ reason: result.message }, 'relay refused our NIP-42 AUTH');
    else options.logger.info('authenticated to the relay (NIP-42)');
    return result.accepted;
  }
}
