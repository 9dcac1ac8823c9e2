/**
 * The storing half of a relay pass: each batch of events is verified in the worker pool and stored
 * with its provenance (and the pass position: the owed window being worked shrinks to it) in one
 * transaction. Batch k is verified and stored while batch k+1 is being fetched; commits stay in batch
 * order, so a saved position never passes an uncommitted batch. At most `inFlight` batches of a pass
 * are held, and their bytes are taken from the process-wide byte budget (backpressure: `push` waits).
 */
import type { Config } from '../../config/schema.js';
import type { Database } from '../../db/database.js';
import { insertEventBatch } from '../../db/events.js';
import { shrinkOwed } from '../../db/sync-gaps.js';
import type { NostrEvent } from '../../nostr/event.js';
import type { EventVerdict } from '../../nostr/verify-event.js';
import type { Logger } from '../../observability/logger.js';
import type { VerifyPool } from '../../verify/pool.js';
import { approximateBytes, type ByteBudget } from './byte-budget.js';
import { syncMetrics } from './metrics.js';

export interface StoreTotals {
  stored: number;
  newLinks: number;
  invalid: { badId: number; badSig: number };
  strictSerialization: number;
  /** Events whose exact signature was archived already: id checked, signature not verified again. */
  knownSignatures: number;
}

export function emptyStoreTotals(): StoreTotals {
  return { stored: 0, newLinks: 0, invalid: { badId: 0, badSig: 0 }, strictSerialization: 0, knownSignatures: 0 };
}

/** Where the pass stands: the owed window `owedId` now ends at `until` (that second may be partly done). */
export interface PassPosition {
  owedId: number;
  until: number;
}

export interface StorePipeline {
  /** Queues a batch (possibly empty: a position alone); the position is saved with it. */
  push(events: NostrEvent[], position?: PassPosition): Promise<void>;
  /** Waits for every queued batch to be committed; rethrows the first failure. */
  drain(): Promise<void>;
  /** Waits for queued batches to end, successfully or not (after a failure elsewhere). */
  settle(): Promise<void>;
  readonly totals: StoreTotals;
}

export function createStorePipeline(options: {
  db: Database;
  pool: VerifyPool;
  relayId: number;
  config: Config;
  logger: Logger;
  inFlight: number;
  /** The process-wide bound on bytes held between fetching and committing. */
  budget?: ByteBudget;
  signal?: AbortSignal;
  totals?: StoreTotals;
  /** Called after each batch is committed, with the pass position saved with it. */
  onCommitted?: (position: PassPosition | undefined) => void;
}): StorePipeline {
  const { db, pool, relayId, config, logger } = options;
  const metrics = syncMetrics();
  const totals: StoreTotals = options.totals ?? emptyStoreTotals();
  const queue: Promise<void>[] = [];
  let invalidLogged = false;

  const store = async (events: NostrEvent[], verified: Promise<EventVerdict[]>, previous: Promise<void>, position: PassPosition | undefined) => {
    const verdicts = await verified;
    totals.knownSignatures += verdicts.filter((verdict) => verdict.ok && verdict.known).length;
    const valid: NostrEvent[] = [];
    verdicts.forEach((verdict, index) => {
      if (verdict.ok) {
        valid.push(events[index] as NostrEvent);
        if (verdict.serialization === 'nip01') totals.strictSerialization += 1;
      } else if (verdict.reason === 'bad-id') totals.invalid.badId += 1;
      else totals.invalid.badSig += 1;
    });
    if (valid.length < events.length && !invalidLogged) {
      invalidLogged = true;
      logger.warn({ invalid: events.length - valid.length }, 'relay serves events with wrong ids or signatures; they are counted and never stored');
    }
    // A failed earlier batch stops every later commit (its events would leave a gap behind the position).
    await previous;
    if (valid.length === 0 && position === undefined) return;
    await db.transaction(async (tx) => {
      // The position is saved in this same transaction: losing the commit loses both, never one. Only
      // on a PostgreSQL server: the embedded database lives in this process and has no WAL writer of
      // its own, so a kill -9 would lose every commit not yet flushed, however old.
      if (!config.sync.durable_commits && db.kind === 'postgres') await tx.query('SET LOCAL synchronous_commit = off');
      if (valid.length > 0) {
        const inserted = await insertEventBatch(tx, valid, relayId, { batchSize: config.database.insert_batch_size });
        totals.stored += inserted.newEvents;
        totals.newLinks += inserted.newRelayLinks;
        metrics.eventsStored.inc(inserted.newEvents);
        metrics.relayLinks.inc(inserted.newRelayLinks);
      }
      if (position !== undefined) await shrinkOwed(tx, position.owedId, position.until);
    });
    options.onCommitted?.(position);
  };

  return {
    totals,
    async push(events, position) {
      const release = options.budget ? await options.budget.acquire(approximateBytes(events), options.signal) : () => undefined;
      const previous = queue[queue.length - 1] ?? Promise.resolve();
      const verified = events.length > 0 ? pool.verify(events) : Promise.resolve([]);
      const work = store(events, verified, previous, position).finally(release);
      work.catch(() => undefined); // awaited by push, drain or settle
      queue.push(work);
      if (queue.length >= options.inFlight) await queue.shift();
    },
    async drain() {
      for (const work of queue.splice(0)) await work;
    },
    async settle() {
      await Promise.allSettled(queue.splice(0));
    },
  };
}
