/**
 * One pass over one relay: page through its stored events newest first (src/relay/paginate.ts),
 * verify ids and signatures in the worker pool, store the valid ones with their provenance and move
 * the relay's cursor in the same transaction. Killed at any point, the next pass resumes at the
 * cursor: nothing committed is lost, nothing is stored twice.
 */
import type { Config } from '../../config/schema.js';
import { eventLimitsFrom } from '../../config/limits.js';
import type { Database } from '../../db/database.js';
import { insertEventBatch } from '../../db/events.js';
import { completePass, readCursor, savePassPosition } from '../../db/sync-cursors.js';
import type { NostrEvent } from '../../nostr/event.js';
import type { Logger } from '../../observability/logger.js';
import { RelayConnection } from '../../relay/connection.js';
import { connectionCounter, connectionPageFetcher, type FetchPageStats } from '../../relay/fetch-page.js';
import { paginateWindow, type PaginateReport } from '../../relay/paginate.js';
import type { VerifyPool } from '../../verify/pool.js';
import { syncMetrics } from './metrics.js';
import type { EventVerdict } from '../../nostr/verify-event.js';
import { knownMaxLimit } from '../../db/relay-metadata.js';

/** Pages held at once: one being verified and stored while the next is fetched. */
const PAGES_IN_FLIGHT = 2;

/** The pass was stopped by a signal between pages; what was committed stays. */
export class PassAbortedError extends Error {
  constructor() {
    super('sync pass stopped');
    this.name = 'PassAbortedError';
  }
}

export interface RelaySyncResult {
  relayUrl: string;
  window: { since: number; until: number };
  report: PaginateReport;
  stored: number;
  newLinks: number;
  invalid: { badId: number; badSig: number; malformed: number };
  /** Events whose id matched only the NIP-01-strict serialization (not JSON.stringify's). */
  strictSerialization: number;
}

export interface RelaySyncOptions {
  db: Database;
  relay: { id: number; url: string };
  config: Config;
  pool: VerifyPool;
  logger: Logger;
  /** Stops the pass between pages (the page in flight is committed first). */
  signal?: AbortSignal;
  /** Overrides of the window (CLI --since/--until). */
  since?: number;
  until?: number;
  now?: () => number;
}

export async function syncRelayPass(options: RelaySyncOptions): Promise<RelaySyncResult> {
  const { db, relay, config, pool, logger } = options;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const cursor = await readCursor(db, relay.id);
  const passUntil = options.until ?? cursor.passUntil ?? now();
  const since = options.since ?? (cursor.completedUntil !== null ? Math.max(0, cursor.completedUntil - config.sync.rescan_window_seconds) : config.sync.since);
  // Resume an interrupted pass of the same window at the second it reached.
  const startAt = options.until === undefined && cursor.passUntil !== null && cursor.positionAt !== null ? cursor.positionAt : passUntil;

  const result: RelaySyncResult = {
    relayUrl: relay.url,
    window: { since, until: passUntil },
    report: { pages: 0, delivered: 0, outOfFilter: 0, crowdedSeconds: 0, complete: true, observedCap: 0 },
    stored: 0,
    newLinks: 0,
    invalid: { badId: 0, badSig: 0, malformed: 0 },
    strictSerialization: 0,
  };
  const metrics = syncMetrics();
  const endTimer = metrics.passSeconds.startTimer();
  const maxLimit = await knownMaxLimit(db, relay.id);
  let connection: RelayConnection;
  try {
    connection = await RelayConnection.open({ url: relay.url, config: config.relay });
  } catch (error) {
    metrics.passes.inc({ outcome: 'unreachable' });
    endTimer();
    throw error;
  }
  const stats: FetchPageStats = { malformed: 0, endedWithoutEose: 0 };
  let invalidLogged = false;
  // Pipelining: page k is verified and stored while page k+1 is fetched. Commits stay in page order
  // (each waits for the previous), so the cursor never passes an uncommitted page; at most
  // PAGES_IN_FLIGHT pages are held in memory.
  const inFlight: Promise<void>[] = [];
  const storePage = async (events: NostrEvent[], verified: Promise<EventVerdict[]>, previous: Promise<void>) => {
    const verdicts = await verified;
    const valid: NostrEvent[] = [];
    verdicts.forEach((verdict, index) => {
      if (verdict.ok) {
        valid.push(events[index] as NostrEvent);
        if (verdict.serialization === 'nip01') result.strictSerialization += 1;
      } else if (verdict.reason === 'bad-id') result.invalid.badId += 1;
      else result.invalid.badSig += 1;
    });
    if (valid.length < events.length && !invalidLogged) {
      invalidLogged = true;
      logger.warn({ invalid: events.length - valid.length }, 'relay serves events with wrong ids or signatures; they are counted and never stored');
    }
    const oldest = events.reduce((min, event) => Math.min(min, event.created_at), Number.POSITIVE_INFINITY);
    await previous;
    await db.transaction(async (tx) => {
      const inserted = await insertEventBatch(tx, valid, relay.id, { batchSize: config.database.insert_batch_size });
      result.stored += inserted.newEvents;
      result.newLinks += inserted.newRelayLinks;
      metrics.eventsStored.inc(inserted.newEvents);
      metrics.relayLinks.inc(inserted.newRelayLinks);
      await savePassPosition(tx, { relayId: relay.id, scope: 'all', passUntil, positionAt: oldest });
    });
  };
  try {
    result.report = await paginateWindow(
      connectionPageFetcher(connection, stats, eventLimitsFrom(config.limits)),
      {
        since,
        until: startAt,
        pageLimit: maxLimit ? Math.min(config.sync.page_limit, maxLimit) : config.sync.page_limit,
        ...(maxLimit ? { knownMaxLimit: maxLimit } : {}),
        maxPages: config.sync.max_pages_per_pass,
        maxKindsPerFilter: config.sync.max_kinds_per_filter,
      },
      async (events) => {
        if (options.signal?.aborted) throw new PassAbortedError();
        const previous = inFlight[inFlight.length - 1] ?? Promise.resolve();
        const work = storePage(events, pool.verify(events), previous);
        work.catch(() => undefined); // awaited below; a failure stops every later commit
        inFlight.push(work);
        if (inFlight.length >= PAGES_IN_FLIGHT) await inFlight.shift();
      },
      connectionCounter(connection),
    );
    for (const work of inFlight.splice(0)) await work;
  } catch (error) {
    await Promise.allSettled(inFlight);
    metrics.passes.inc({ outcome: error instanceof PassAbortedError ? 'stopped' : 'failed' });
    throw error;
  } finally {
    connection.close();
    result.invalid.malformed = stats.malformed;
    metrics.pages.inc(result.report.pages);
    metrics.eventsRejected.inc({ reason: 'bad-id' }, result.invalid.badId);
    metrics.eventsRejected.inc({ reason: 'bad-sig' }, result.invalid.badSig);
    metrics.eventsRejected.inc({ reason: 'malformed' }, stats.malformed);
    metrics.eventsRejected.inc({ reason: 'out-of-filter' }, result.report.outOfFilter);
    endTimer();
  }
  metrics.passes.inc({ outcome: result.report.complete ? 'complete' : 'incomplete' });
  if (result.report.outOfFilter > 0) logger.warn({ outOfFilter: result.report.outOfFilter }, 'relay returned events outside the filter; they were dropped');
  if (result.report.complete) {
    await completePass(db, { relayId: relay.id, scope: 'all', completedUntil: passUntil });
  } else {
    logger.warn({ reason: result.report.incompleteReason }, 'pass incomplete; it resumes from its cursor next time');
  }
  return result;
}
