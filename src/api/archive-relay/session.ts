/**
 * One client connection: its subscriptions, its queue of queries (run one at a time), and the short
 * replies it is sent. A client that does not read what it is sent is dropped, so that it cannot make
 * the server buffer unbounded data.
 */
import type WebSocket from 'ws';
import { wrapDatabaseError } from '../../db/errors.js';
import type { ArchiveFilter, ArchivePosition } from '../../db/event-query.js';
import type { Logger } from '../../observability/logger.js';
import type { RelayMetrics } from './metrics.js';

export interface Subscription {
  closed: boolean;
  /** Set after EOSE when live events are on: the filters, and where in the archive this subscriber's feed starts. */
  live?: { filters: ArchiveFilter[]; from: ArchivePosition };
}

export interface SessionSettings {
  log: Logger;
  metrics: RelayMetrics;
  /** Bytes a client may leave unread before it is considered not to read (relay_send_budget_bytes). */
  sendBudget: number;
  /** Queries queued or running at once on one connection. */
  maxPending: number;
}

/** The CLOSED reason when a connection already has `maxPending` queries waiting. */
export const TOO_MANY_IN_PROGRESS = 'rate-limited: too many requests in progress; wait for their answers';

export class Session {
  /** When the client last sent a message (not a control frame). */
  lastMessageAt = Date.now();
  readonly subscriptions = new Map<string, Subscription>();
  /** The tail of this connection's work queue (queries run one at a time per connection). */
  queue: Promise<void> = Promise.resolve();
  pending = 0;
  /** Whether the client answered the last ping. */
  alive = true;
  isOpen = true;
  /** Resolves once the socket has closed. */
  readonly closed: Promise<void>;
  private markClosed: () => void = () => {};

  constructor(
    readonly socket: WebSocket,
    /** The client's address (for per-address limits). */
    readonly address: string,
    private readonly settings: SessionSettings,
  ) {
    this.closed = new Promise<void>((resolve) => {
      this.markClosed = resolve;
    });
  }

  /** Disconnects a client that does not read its replies. */
  drop(why: string): void {
    this.settings.log.debug(
      { address: this.address, unsent: this.socket.bufferedAmount, why },
      'archive relay client does not read its replies; disconnecting',
    );
    this.settings.metrics.dropped.inc();
    this.socket.terminate();
  }

  /**
   * Sends a short reply (NOTICE, CLOSED, OK, COUNT) without waiting. A client that already has more
   * than its send budget unread and keeps asking is not reading: it is dropped.
   */
  reply(message: unknown[]): void {
    if (!this.isOpen) return;
    if (this.socket.bufferedAmount > this.settings.sendBudget) {
      this.drop('replies past the send budget');
      return;
    }
    this.socket.send(JSON.stringify(message), () => {});
  }

  /** Queues a query after the connection's others; false (nothing queued) when too many are waiting. */
  enqueue(job: () => Promise<void>): boolean {
    if (this.pending >= this.settings.maxPending) return false;
    this.pending += 1;
    this.queue = this.queue
      .then(job)
      .catch((error: unknown) =>
        this.settings.log.warn({ err: wrapDatabaseError(error, 'archive relay request') }, 'archive relay request failed'),
      )
      .finally(() => {
        this.pending -= 1;
      });
    return true;
  }

  closeSubscription(subId: string): void {
    const existing = this.subscriptions.get(subId);
    if (!existing) return;
    existing.closed = true;
    this.subscriptions.delete(subId);
  }

  /** Whether a subscription waits for live events (the connection is in use even if the client is silent). */
  waitsForLiveEvents(): boolean {
    return [...this.subscriptions.values()].some((subscription) => subscription.live !== undefined);
  }

  /** The socket has closed: every subscription ends and `closed` resolves. */
  end(): void {
    this.isOpen = false;
    for (const subscription of this.subscriptions.values()) subscription.closed = true;
    this.subscriptions.clear();
    this.markClosed();
  }
}
