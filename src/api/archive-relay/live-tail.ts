/**
 * Live events after EOSE: one tail of the archive (`archived_at` order, polled every
 * `api.relay_live_poll_ms`) serves every subscriber; each event goes to the subscriptions whose
 * filters it matches and whose feed starts before it.
 */
import type { Database } from '../../db/database.js';
import { wrapDatabaseError } from '../../db/errors.js';
import { comparePositions, eventsArchivedAfter, matchesArchiveFilter, type ArchivePosition } from '../../db/event-query.js';
import type { NostrEvent } from '../../nostr/event.js';
import type { Logger } from '../../observability/logger.js';
import { readOnly } from '../api-query.js';
import type { RelayMetrics } from './metrics.js';
import type { Session, Subscription } from './session.js';

export interface LiveTailSettings {
  db: Database;
  log: Logger;
  metrics: RelayMetrics;
  statementTimeoutMs: number;
  /** relay_live_poll_ms; 0 turns live events off. */
  pollMs: number;
  /** relay_live_lag_ms. */
  lagMs: number;
  /** relay_live_batch: events read per poll. */
  batch: number;
  /** relay_send_budget_bytes. */
  sendBudget: number;
  /** The open connections, whose live subscriptions the tail serves. */
  sessions: ReadonlySet<Session>;
}

type Live = NonNullable<Subscription['live']>;
interface Subscriber {
  session: Session;
  subId: string;
  subscription: Subscription;
}
type ArchivedBatch = { event: NostrEvent; position: ArchivePosition }[];

export class LiveTail {
  /** How far the shared tail has read; undefined while nobody is subscribed. */
  private position: ArchivePosition | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** The poll in progress, if any (shutdown waits for it). */
  running: Promise<void> | undefined;

  constructor(private readonly settings: LiveTailSettings) {}

  get enabled(): boolean {
    return this.settings.pollMs > 0;
  }

  get lagMs(): number {
    return this.settings.lagMs;
  }

  /** A subscription past EOSE joins the feed at `live.from`. */
  follow(session: Session, subId: string, subscription: Subscription, live: Live): void {
    subscription.live = live;
    if (this.position === undefined || comparePositions(live.from, this.position) < 0) {
      // The shared tail has already read past where this subscriber starts: catch it up alone, once.
      const upTo = this.position;
      if (upTo !== undefined) session.enqueue(() => this.catchUp({ session, subId, subscription }, live.from, upTo));
      else this.position = live.from;
    }
    this.timer ??= setInterval(() => this.poll(), this.settings.pollMs);
  }

  /** No more polls (shutdown). */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  private async catchUp(subscriber: Subscriber, from: ArchivePosition, upTo: ArchivePosition): Promise<void> {
    const { db, statementTimeoutMs, batch } = this.settings;
    const missed = await readOnly(db, statementTimeoutMs, (tx) => eventsArchivedAfter(tx, from, { lagMs: 0, limit: batch, upTo }));
    if (missed.length >= batch) {
      subscriber.session.closeSubscription(subscriber.subId);
      subscriber.session.reply(['CLOSED', subscriber.subId, 'error: too many events archived since this REQ to catch up; REQ again']);
      return;
    }
    this.deliver(missed, subscriber);
  }

  private poll(): void {
    if (this.running || this.stopped) return;
    this.running = this.readNewEvents()
      .catch((error: unknown) =>
        this.settings.log.warn(
          { err: wrapDatabaseError(error, 'archive relay live feed') },
          'archive relay live feed could not read the archive; retrying',
        ),
      )
      .finally(() => {
        this.running = undefined;
      });
  }

  /** Reads and delivers what was archived since the tail's position, batch after batch; stops the timer once nobody listens. */
  private async readNewEvents(): Promise<void> {
    const { db, statementTimeoutMs, lagMs, batch: limit } = this.settings;
    for (;;) {
      if (this.subscribers().length === 0 || this.position === undefined) {
        clearInterval(this.timer);
        this.timer = undefined;
        this.position = undefined;
        return;
      }
      const after = this.position;
      const batch = await readOnly(db, statementTimeoutMs, (tx) => eventsArchivedAfter(tx, after, { lagMs, limit }));
      if (batch.length > 0) this.position = batch[batch.length - 1]?.position;
      this.deliver(batch);
      if (batch.length < limit) return;
    }
  }

  private subscribers(): Subscriber[] {
    const found: Subscriber[] = [];
    for (const session of this.settings.sessions)
      for (const [subId, subscription] of session.subscriptions)
        if (subscription.live && !subscription.closed) found.push({ session, subId, subscription });
    return found;
  }

  private deliver(batch: ArchivedBatch, only?: Subscriber): void {
    const subscribers = only ? [only] : this.subscribers();
    for (const { event, position } of batch) {
      for (const subscriber of subscribers) {
        const live = subscriber.subscription.live;
        if (!live || subscriber.subscription.closed || comparePositions(position, live.from) <= 0) continue;
        if (live.filters.some((filter) => matchesArchiveFilter(event, filter))) this.send(subscriber, event);
      }
    }
  }

  /** Sends one live event; a subscriber whose connection holds more than its send budget unread loses the subscription, with CLOSED. */
  private send({ session, subId, subscription }: Subscriber, event: NostrEvent): void {
    if (!session.isOpen || subscription.closed) return;
    if (session.socket.bufferedAmount > this.settings.sendBudget) {
      session.closeSubscription(subId);
      session.socket.send(
        JSON.stringify(['CLOSED', subId, 'error: live events came faster than this connection read them; REQ again to resume']),
        () => {},
      );
      return;
    }
    session.socket.send(JSON.stringify(['EVENT', subId, event]), () => {});
    this.settings.metrics.eventsSent.inc();
  }
}
