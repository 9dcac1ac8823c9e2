/**
 * The storing half of a relay pass: each batch of events is verified in the worker pool and stored
 * with its provenance (and the pass position: the owed window being worked shrinks to it) in one
 * transaction. Batch k is verified and stored while batch k+1 is being fetched; commits stay in batch
 * order, so a saved position never passes an uncommitted batch; batches already verified when the one
 * before them commits share its transaction. At most `inFlight` batches of a pass are held (fewer when
 * they weigh more than `maxBytesInFlight`), and their bytes are taken from the process-wide byte
 * budget (backpressure: `push` waits).
 *
 * The pure steps (counting verdicts, grouping batches, the positions a group saves) live in store-batch.ts.
 */
import type { Config } from '../../config/schema.js';
import type { Database, Transaction } from '../../db/database.js';
import { insertEventBatch } from '../../db/events.js';
import { shrinkOwed } from '../../db/sync-gaps.js';
import type { NostrEvent } from '../../nostr/event.js';
import type { EventVerdict } from '../../nostr/verify-event.js';
import type { Logger } from '../../observability/logger.js';
import type { VerifyPool } from '../../verify/pool.js';
import { approximateBytes, type ByteBudget } from './byte-budget.js';
import { syncMetrics } from './metrics.js';
import {
  committedSomething,
  countVerdicts,
  emptyStoreTotals,
  groupEvents,
  lowestPositions,
  takeCommitGroup,
  type GroupLimits,
  type PassPosition,
  type StoreTotals,
  type WeighedBatch,
} from './store-batch.js';

export interface StorePipeline {
  /** Queues a batch (possibly empty: a position alone); the position is saved with it. */
  push(events: NostrEvent[], position?: PassPosition): Promise<void>;
  /** Waits for every queued batch to be committed; rethrows the first failure. */
  drain(): Promise<void>;
  /** Waits for queued batches to end, successfully or not (after a failure elsewhere). */
  settle(): Promise<void>;
  readonly totals: StoreTotals;
}

export interface StorePipelineOptions {
  db: Database;
  pool: VerifyPool;
  relayId: number;
  config: Config;
  logger: Logger;
  inFlight: number;
  /** Bytes of this pass's batches held at once (approximate JSON size): fewer than `inFlight` batches when they are heavy. */
  maxBytesInFlight?: number;
  /** The process-wide bound on bytes held between fetching and committing. */
  budget?: ByteBudget;
  signal?: AbortSignal;
  totals?: StoreTotals;
  /** Called after each batch is committed, with the pass position saved with it. */
  onCommitted?: (position: PassPosition | undefined) => void;
}

interface Batch extends WeighedBatch {
  events: NostrEvent[];
  /** Settles when the verdicts are counted; rejects when verification failed. */
  verified: Promise<void>;
  /** Settles when the batch is committed (or has failed): what push, drain and settle wait for. */
  done: Promise<void>;
  release: () => void;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export function createStorePipeline(options: StorePipelineOptions): StorePipeline {
  return new BatchStore(options);
}

/** A batch's end: a promise with its settling functions (a rejection is never left unhandled). */
function settlement(): { done: Promise<void>; resolve: () => void; reject: (error: unknown) => void } {
  let resolve: () => void = () => undefined;
  let reject: (error: unknown) => void = () => undefined;
  const done = new Promise<void>((onDone, onFail) => {
    resolve = onDone;
    reject = onFail;
  });
  done.catch(() => undefined); // awaited by push, drain or settle
  return { done, resolve, reject };
}

/** A batch ends: its bytes are given back, then it settles (with `error` when it failed). */
function endBatch(batch: Batch, error?: { error: unknown }): void {
  batch.release();
  if (error) batch.reject(error.error);
  else batch.resolve();
}

class BatchStore implements StorePipeline {
  readonly totals: StoreTotals;
  private readonly options: StorePipelineOptions;
  private readonly metrics = syncMetrics();
  private readonly groupLimits: GroupLimits;
  /** Per batch, settles when it is committed (or has failed): what push, drain and settle wait for. */
  private readonly queue: Promise<void>[] = [];
  /** Batches not yet committed, in push order. */
  private readonly waiting: Batch[] = [];
  private committing = false;
  /** Bytes of the batches pushed and not yet committed (or failed). */
  private held = 0;
  private failure: { error: unknown } | undefined;
  private invalidLogged = false;

  constructor(options: StorePipelineOptions) {
    this.options = options;
    this.totals = options.totals ?? emptyStoreTotals();
    // A shared transaction stays within one statement's worth of events and one page's worth of bytes.
    this.groupLimits = { maxEvents: options.config.database.insert_batch_size, maxBytes: options.config.sync.max_page_bytes };
  }

  async push(events: NostrEvent[], position?: PassPosition): Promise<void> {
    const bytes = approximateBytes(events);
    const giveBack = this.options.budget ? await this.options.budget.acquire(bytes, this.options.signal) : () => undefined;
    const batch = this.accept(events, bytes, position, giveBack);
    this.waiting.push(batch);
    this.queue.push(batch.done);
    void this.pump();
    // Backpressure: the oldest batches are waited for while `inFlight` are queued or their bytes exceed `maxBytesInFlight`.
    const maxBytes = this.options.maxBytesInFlight ?? Number.POSITIVE_INFINITY;
    while (this.queue.length >= this.options.inFlight || (this.held > maxBytes && this.queue.length > 0)) await this.queue.shift();
  }

  async drain(): Promise<void> {
    for (const work of this.queue.splice(0)) await work;
  }

  async settle(): Promise<void> {
    await Promise.allSettled(this.queue.splice(0));
  }

  /** Holds the batch's bytes (given back once, when it ends) and starts verifying its events. */
  private accept(events: NostrEvent[], bytes: number, position: PassPosition | undefined, giveBack: () => void): Batch {
    this.held += bytes;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.held -= bytes;
      giveBack();
    };
    const batch: Batch = { events, bytes, position, verified: Promise.resolve(), release, ...settlement() };
    batch.verified = (events.length > 0 ? this.options.pool.verify(events) : Promise.resolve([])).then((verdicts) => {
      batch.valid = this.count(events, verdicts);
    });
    batch.verified.catch(() => undefined); // handled by pump
    return batch;
  }

  private count(events: NostrEvent[], verdicts: EventVerdict[]): NostrEvent[] {
    const valid = countVerdicts(events, verdicts, this.totals);
    if (valid.length < events.length && !this.invalidLogged) {
      this.invalidLogged = true;
      this.options.logger.warn(
        { invalid: events.length - valid.length },
        'relay serves events with wrong ids or signatures; they are counted and never stored',
      );
    }
    return valid;
  }

  /**
   * Commits batches in push order, one transaction at a time. The batches behind the first that are
   * verified already by the time it commits join its transaction (up to `database.insert_batch_size`
   * events and `sync.max_page_bytes`): when the database is the slower stage, fewer and larger
   * statements; otherwise each batch commits alone, as soon as it is verified. A failed batch stops
   * every later commit (its events would leave a gap behind the position).
   */
  private async pump(): Promise<void> {
    if (this.committing) return;
    this.committing = true;
    try {
      while (this.waiting.length > 0) await this.commitFirst();
    } finally {
      this.committing = false;
    }
  }

  /** Once the first waiting batch is verified: commits it with the verified ones behind it, or fails them all. */
  private async commitFirst(): Promise<void> {
    try {
      await (this.waiting[0] as Batch).verified;
    } catch (error) {
      return this.fail(error);
    }
    if (this.failure) return this.fail(this.failure.error);
    const group = takeCommitGroup(this.waiting, this.groupLimits);
    try {
      await this.commit(group);
    } catch (error) {
      for (const batch of group) endBatch(batch, { error });
      return this.fail(error);
    }
    for (const batch of group) {
      endBatch(batch);
      // A batch with nothing to store and no position to save committed nothing: not reported.
      if (committedSomething(batch)) this.options.onCommitted?.(batch.position);
    }
  }

  /** The first failure is kept; every batch still waiting gives its bytes back and fails with it. */
  private fail(error: unknown): void {
    this.failure ??= { error };
    for (const batch of this.waiting.splice(0)) endBatch(batch, this.failure);
  }

  /** Events and positions of consecutive batches, committed in one transaction. */
  private async commit(group: Batch[]): Promise<void> {
    const { db, config } = this.options;
    const valid = groupEvents(group);
    // Each owed window shrinks to the lowest position saved for it (as saving them one by one would).
    const positions = lowestPositions(group);
    if (valid.length === 0 && positions.size === 0) return;
    await db.transaction(async (tx) => {
      // The position is saved in this same transaction: losing the commit loses both, never one. Only
      // on a PostgreSQL server: the embedded database lives in this process and has no WAL writer of
      // its own, so a kill -9 would lose every commit not yet flushed, however old.
      if (!config.sync.durable_commits && db.kind === 'postgres') await tx.query('SET LOCAL synchronous_commit = off');
      if (valid.length > 0) await this.insert(tx, valid);
      for (const [owedId, until] of positions) await shrinkOwed(tx, owedId, until);
    });
  }

  /** Inserts the group's events (with this relay as their source) and counts what was new. */
  private async insert(tx: Transaction, valid: NostrEvent[]): Promise<void> {
    const inserted = await insertEventBatch(tx, valid, this.options.relayId, { batchSize: this.options.config.database.insert_batch_size });
    this.totals.stored += inserted.newEvents;
    this.totals.newLinks += inserted.newRelayLinks;
    this.metrics.eventsStored.inc(inserted.newEvents);
    this.metrics.relayLinks.inc(inserted.newRelayLinks);
  }
}
