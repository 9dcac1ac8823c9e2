/**
 * A conversation with one relay that may outlive one connection: a pass reconnects when the relay
 * closed on us for a reason we caused (a negentropy reply larger than we accept) and carries on with
 * the same pacing, AUTH key, page fetchers and counters. Reconnects are bounded.
 */
import type { RelayClientConfig } from '../config/schema.js';
import type { EventLimits } from '../nostr/event-shape.js';
import { RelayConnection } from './connection.js';
import { RelayNetworkError } from './errors.js';
import {
  connectionCounter,
  connectionIdsFetcher,
  connectionPageFetcher,
  type CountEvents,
  type FetchIds,
  type FetchPage,
  type FetchPageStats,
} from './fetch-page.js';
import { createRequestGuard, type RequestGuard, type RequestGuardOptions } from './request-guard.js';

export interface RelaySessionOptions {
  url: string;
  config: RelayClientConfig;
  guard: RequestGuardOptions;
  eventLimits: EventLimits;
  /** Stop reading a page once its events weigh this many bytes. */
  maxPageBytes: number;
  /** Longest wait for a COUNT answer (some relays ignore COUNT silently). */
  countTimeoutMs: number;
  /** Reconnects allowed in one session. */
  maxReconnects: number;
  addresses?: string[];
  headers?: Record<string, string>;
}

export class RelaySession {
  readonly stats: FetchPageStats = { malformed: 0 };
  readonly guard: RequestGuard;
  readonly fetchPage: FetchPage;
  readonly fetchIds: FetchIds;
  readonly count: CountEvents;
  reconnects = 0;
  private current: RelayConnection;

  private constructor(
    private readonly options: RelaySessionOptions,
    connection: RelayConnection,
  ) {
    this.current = connection;
    this.guard = createRequestGuard(connection, options.guard);
    const source = () => this.current;
    const fetchOptions = { limits: options.eventLimits, guard: this.guard, maxPageBytes: options.maxPageBytes };
    this.fetchPage = connectionPageFetcher(source, this.stats, fetchOptions);
    this.fetchIds = connectionIdsFetcher(source, this.stats, fetchOptions);
    this.count = connectionCounter(source, { guard: this.guard, timeoutMs: options.countTimeoutMs });
  }

  static async open(options: RelaySessionOptions): Promise<RelaySession> {
    return new RelaySession(options, await RelaySession.connect(options));
  }

  private static connect(options: RelaySessionOptions): Promise<RelayConnection> {
    return RelayConnection.open({
      url: options.url,
      config: options.config,
      ...(options.addresses ? { addresses: options.addresses } : {}),
      ...(options.headers ? { headers: options.headers } : {}),
    });
  }

  get connection(): RelayConnection {
    return this.current;
  }

  get url(): string {
    return this.options.url;
  }

  /** A fresh connection after the relay closed this one; throws once the reconnect budget is spent. */
  async reconnect(why: string): Promise<void> {
    if (this.reconnects >= this.options.maxReconnects)
      throw new RelayNetworkError(this.options.url, `gave up after ${this.reconnects} reconnects (${why})`);
    this.reconnects += 1;
    this.current.close();
    this.current = await RelaySession.connect(this.options);
    this.guard.attach(this.current);
  }

  close(): void {
    this.current.close();
  }
}
