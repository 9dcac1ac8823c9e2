/**
 * Sending a query's events with backpressure: a slow link is served, but the results held for all slow
 * clients together stay bounded, and a client that reads nothing is dropped.
 */
import { heldSize, rawSocket, writeEventFrames } from './frames.js';
import type { RelayMetrics } from './metrics.js';
import type { Session, Subscription } from './session.js';

export interface EventStreamSettings {
  metrics: RelayMetrics;
  /** relay_send_budget_bytes: unread bytes per client before we wait for it. */
  sendBudget: number;
  /** relay_held_bytes: results held across all clients while slow ones read. */
  heldCap: number;
  /** relay_send_timeout_seconds, in milliseconds. */
  sendTimeoutMs: number;
}

export class EventStreamer {
  /** Bytes of query results held, across all clients, while slow clients read what was already sent. */
  private heldBytes = 0;

  constructor(private readonly settings: EventStreamSettings) {}

  /**
   * Streams a query's events (NIP-01 JSON texts, sent as they are inside the EVENT message), in
   * batches of frames up to the send budget. Past the budget it waits for the client to read (a slow
   * link is served), holding the rest of the result; the held results of all slow clients together
   * stay under relay_held_bytes, and a client that reads nothing for relay_send_timeout_seconds is
   * dropped. So memory is bounded by connections × budget + relay_held_bytes. False once the client
   * is gone.
   */
  async stream(session: Session, subId: string, events: readonly string[], subscription: Subscription): Promise<boolean> {
    const prefixText = `["EVENT",${JSON.stringify(subId)},`;
    const prefix = Buffer.from(prefixText, 'utf8');
    let index = 0;
    while (index < events.length) {
      if (subscription.closed || !session.isOpen) return false;
      index = this.sendWithinBudget(session, prefixText, prefix, events, index);
      if (index === events.length) break;
      if (!(await this.waitForReader(session, heldSize(events, index, prefix.length)))) return false;
    }
    return session.isOpen;
  }

  /** Sends events[from..] until the client has a send budget's worth unread; returns the index after the last sent. */
  private sendWithinBudget(session: Session, prefixText: string, prefix: Buffer, events: readonly string[], from: number): number {
    const socket = session.socket;
    let index = from;
    do {
      const raw = socket.readyState === socket.OPEN ? rawSocket(socket) : undefined;
      if (raw) index = writeEventFrames(raw, prefix, events, index);
      else {
        socket.send(prefixText + (events[index] as string) + ']', () => {});
        index += 1;
      }
    } while (index < events.length && socket.bufferedAmount <= this.settings.sendBudget);
    this.settings.metrics.eventsSent.inc(index - from);
    return index;
  }

  /** Holds `rest` bytes of results while the client reads; false (client dropped or gone) if it cannot. */
  private async waitForReader(session: Session, rest: number): Promise<boolean> {
    if (this.heldBytes + rest > this.settings.heldCap) {
      session.drop('held results past relay_held_bytes');
      return false;
    }
    this.heldBytes += rest;
    try {
      if (!(await this.drained(session))) {
        if (session.isOpen) session.drop('nothing read within relay_send_timeout_seconds');
        return false;
      }
      return true;
    } finally {
      this.heldBytes -= rest;
    }
  }

  /**
   * Resolves true once the client has read our buffer down to half the budget (checked when the
   * socket drains, and every 25 ms), false on close or timeout.
   */
  private drained(session: Session): Promise<boolean> {
    const { sendBudget, sendTimeoutMs } = this.settings;
    return new Promise((resolve) => {
      const started = Date.now();
      const raw = rawSocket(session.socket);
      const check = () => {
        if (!session.isOpen) finish(false);
        else if (session.socket.bufferedAmount <= sendBudget / 2) finish(true);
        else if (Date.now() - started > sendTimeoutMs) finish(false);
      };
      const poll = setInterval(check, 25);
      raw?.on('drain', check);
      let done = false;
      function finish(ok: boolean): void {
        if (done) return;
        done = true;
        clearInterval(poll);
        raw?.off('drain', check);
        resolve(ok);
      }
    });
  }
}
