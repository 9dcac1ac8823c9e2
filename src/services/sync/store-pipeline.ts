/**
 * The storing half of a relay pass: each batch of events is verified in the worker pool and stored
 * with its provenance (and the pass position: the owed window being worked shrinks to it) in one
 * transaction. Batch k is verified and stored while batch k+1 is being fetched; commits stay in batch
 * order, so a saved position never passes an uncommitted batch; batches already verified when the one
 * before them commits share its transaction. At most `inFlight` batches of a pass are held (fewer when
 * they weigh more than `maxBytesInFlight`), and their bytes are taken from the process-wide byte
 * budget (backpressure: `push` waits).
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

interface Batch {
  events: NostrEvent[];
  /** About the JSON size of the events (what the byte budget holds for them). */
  bytes: number;
  position: PassPosition | undefined;
  /** The events whose id and signature verified, once the verdicts are in. */
  valid?: NostrEvent[];
  /** Settles when the verdicts are counted; rejects when verification failed. */
  verified: Promise<void>;
  release: () => void;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export function createStorePipeline(options: {
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
}): StorePipeline {
  const { db, pool, relayId, config, logger } = options;
  const metrics = syncMetrics();
  const totals: StoreTotals = options.totals ?? emptyStoreTotals();
  // A shared transaction stays within one statement's worth of events and one page's worth of bytes.
  const maxGroupEvents = config.database.insert_batch_size;
  const maxGroupBytes = config.sync.max_page_bytes;
  /** Per batch, settles when it is committed (or has failed): what push, drain and settle wait for. */
  const queue: Promise<void>[] = [];
  /** Batches not yet committed, in push order. */
  const waiting: Batch[] = [];
  let committing = false;
  /** Bytes of the batches pushed and not yet committed (or failed). */
  let held = 0;
  let failure: { error: unknown } | undefined;
  let invalidLogged = false;

  const count = (events: NostrEvent[], verdicts: EventVerdict[]): NostrEvent[] => {
    const valid: NostrEvent[] = [];
    verdicts.forEach((verdict, index) => {
      if (verdict.ok) {
        valid.push(events[index] as NostrEvent);
        if (verdict.known) totals.knownSignatures += 1;
        if (verdict.serialization === 'nip01') totals.strictSerialization += 1;
      } else if (verdict.reason === 'bad-id') totals.invalid.badId += 1;
      else totals.invalid.badSig += 1;
    });
    if (valid.length < events.length && !invalidLogged) {
      invalidLogged = true;
      logger.warn(
        { invalid: events.length - valid.length },
        'relay serves events with wrong ids or signatures; they are counted and never stored',
      );
    }
    return valid;
  };

  /** Events and positions of consecutive batches, committed in one transaction. */
  const commit = async (group: Batch[]) => {
    const valid = group.length === 1 ? ((group[0] as Batch).valid as NostrEvent[]) : group.flatMap((batch) => batch.valid as NostrEvent[]);
    // Each owed window shrinks to the lowest position saved for it (as saving them one by one would).
    const positions = new Map<number, number>();
    for (const { position } of group)
      if (position !== undefined)
        positions.set(position.owedId, Math.min(position.until, positions.get(position.owedId) ?? Number.POSITIVE_INFINITY));
    if (valid.length === 0 && positions.size === 0) return;
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
      for (const [owedId, until] of positions) await shrinkOwed(tx, owedId, until);
    });
  };

  const fail = (error: unknown) => {
    failure ??= { error };
    for (const batch of waiting.splice(0)) {
      batch.release();
      batch.reject(failure.error);
    }
  };

  /**
   * Commits batches in push order, one transaction at a time. The batches behind the first that are
   * verified already by the time it commits join its transaction (up to `database.insert_batch_size`
   * events and `sync.max_page_bytes`): when the database is the slower stage, fewer and larger
   * statements; otherwise each batch commits alone, as soon as it is verified. A failed batch stops
   * every later commit (its events would leave a gap behind the position).
   */
  const pump = async () => {
    if (committing) return;
    committing = true;
    try {
      while (waiting.length > 0) {
        const first = waiting[0] as Batch;
        try {
          await first.verified;
        } catch (error) {
          fail(error);
          continue;
        }
        if (failure) {
          fail(failure.error);
          continue;
        }
        const group = [waiting.shift() as Batch];
        let events = (first.valid as NostrEvent[]).length;
        let bytes = first.bytes;
        for (
          let next = waiting[0];
          next?.valid !== undefined && events + next.valid.length <= maxGroupEvents && bytes + next.bytes <= maxGroupBytes;
          next = waiting[0]
        ) {
          group.push(waiting.shift() as Batch);
          events += next.valid.length;
          bytes += next.bytes;
        }
        try {
          await commit(group);
        } catch (error) {
          for (const batch of group) {
            batch.release();
            batch.reject(error);
          }
          fail(error);
          continue;
        }
        for (const batch of group) {
          batch.release();
          batch.resolve();
          // A batch with nothing to store and no position to save committed nothing: not reported.
          if ((batch.valid as NostrEvent[]).length > 0 || batch.position !== undefined) options.onCommitted?.(batch.position);
        }
      }
    } finally {
      committing = false;
    }
  };

  return {
    totals,
    async push(events, position) {
      const bytes = approximateBytes(events);
      const giveBack = options.budget ? await options.budget.acquire(bytes, options.signal) : () => undefined;
      held += bytes;
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        held -= bytes;
        giveBack();
      };
      let resolve: () => void = () => undefined;
      let reject: (error: unknown) => void = () => undefined;
      const done = new Promise<void>((onDone, onFail) => {
        resolve = onDone;
        reject = onFail;
      });
      done.catch(() => undefined); // awaited by push, drain or settle
      const batch: Batch = { events, bytes, position, verified: Promise.resolve(), release, resolve, reject };
      batch.verified = (events.length > 0 ? pool.verify(events) : Promise.resolve([])).then((verdicts) => {
        batch.valid = count(events, verdicts);
      });
      batch.verified.catch(() => undefined); // handled by pump
      waiting.push(batch);
      queue.push(done);
      void pump();
      const maxBytes = options.maxBytesInFlight ?? Number.POSITIVE_INFINITY;
      while (queue.length >= options.inFlight || (held > maxBytes && queue.length > 0)) await queue.shift();
    },
    async drain() {
      for (const work of queue.splice(0)) await work;
    },
    async settle() {
      await Promise.allSettled(queue.splice(0));
    },
  };
}
