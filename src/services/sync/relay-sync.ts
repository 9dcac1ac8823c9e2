/**
 * One pass over one relay. The window is [since, until]: from the archived point minus the re-scan
 * window on a regular visit, or from `sync.since` on a first or full pass. Relays that speak NIP-77
 * are reconciled with negentropy (exactly the missing ids are fetched); the others are paged through
 * newest first (src/relay/paginate.ts). Either way every event is verified in the worker pool and
 * stored with its provenance; pagination also moves the relay's cursor in the same transaction, so a
 * pass killed at any point resumes where it stopped: nothing committed is lost, nothing stored twice.
 */
import type { Config } from '../../config/schema.js';
import { eventLimitsFrom } from '../../config/limits.js';
import type { Database } from '../../db/database.js';
import { relayEventItems } from '../../db/relay-events.js';
import { knownLimitation } from '../../db/relay-metadata.js';
import { completePass, readCursor, recordNegentropySupport, type SyncCursor } from '../../db/sync-cursors.js';
import type { Logger } from '../../observability/logger.js';
import { RelayConnection } from '../../relay/connection.js';
import { connectionCounter, connectionIdsFetcher, connectionPageFetcher, type FetchPageStats } from '../../relay/fetch-page.js';
import { NegentropyFrameTooLargeError, NegentropyUnsupportedError, reconcileWindow, type ReconcileReport } from '../../relay/negentropy-window.js';
import { paginateWindow, type PaginateReport } from '../../relay/paginate.js';
import { createRequestGuard } from '../../relay/request-guard.js';
import type { VerifyPool } from '../../verify/pool.js';
import { syncMetrics } from './metrics.js';
import { createStorePipeline, type StoreTotals } from './store-pipeline.js';

/** Batches held at once: one being verified and stored while the next is fetched. */
const BATCHES_IN_FLIGHT = 2;

/** The pass was stopped by a signal between pages; what was committed stays. */
export class PassAbortedError extends Error {
  constructor() {
    super('sync pass stopped');
    this.name = 'PassAbortedError';
  }
}

/**
 * What a pass reports, whichever method it used: `pages` counts REQ pages, COUNTs and negentropy
 * sessions; `crowdedSeconds` is 0 for negentropy (it has no such notion).
 */
export type PassReport = Pick<PaginateReport, 'pages' | 'delivered' | 'outOfFilter' | 'crowdedSeconds' | 'complete' | 'incompleteReason'>;

export interface RelaySyncResult {
  relayUrl: string;
  method: 'negentropy' | 'req';
  /** A pass over the whole history (first pass, scheduled full pass, or --since 0). */
  full: boolean;
  window: { since: number; until: number };
  report: PassReport;
  /** Negentropy details: ids needed, ids the relay no longer serves, ids it did not deliver. */
  negentropy?: Pick<ReconcileReport, 'sessions' | 'splits' | 'need' | 'gone' | 'missing'>;
  stored: number;
  newLinks: number;
  /** Requests the relay refused with `rate-limited:` (each retried after slowing down). */
  rateLimited: number;
  /** Whether we answered a NIP-42 AUTH challenge successfully during the pass. */
  authenticated: boolean;
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
  /** Totals carried across retried attempts of one pass (the result then reports all of them). */
  totals?: StoreTotals;
  /** Called after each committed batch (progress display). */
  onProgress?: (progress: PassProgress) => void;
}

export interface PassProgress {
  relayUrl: string;
  method: RelaySyncResult['method'];
  stored: number;
  newLinks: number;
  /** The oldest created_at reached so far (pagination), when known. */
  positionAt?: number;
}

interface PassWindow {
  since: number;
  until: number;
  /** Where pagination starts: `until`, or the second an interrupted pass of the same window reached. */
  startAt: number;
  full: boolean;
}

/** Schedules (full passes, negentropy re-probes) run on the wall clock, like the database's now(). */
function passWindow(cursor: SyncCursor, config: Config, options: RelaySyncOptions, now: number): PassWindow {
  const until = options.until ?? cursor.passUntil ?? now;
  const fullPassDue = config.sync.full_pass_interval_seconds > 0 && (cursor.lastFullPassAt === null || Date.now() - cursor.lastFullPassAt >= config.sync.full_pass_interval_seconds * 1000);
  // With event retention, nothing older than its cutoff is fetched again (maintenance drops it).
  const retentionFloor = config.maintenance.event_retention_days > 0 ? now - config.maintenance.event_retention_days * 86_400 : 0;
  const oldest = Math.max(config.sync.since, retentionFloor);
  const since = options.since ?? (cursor.completedUntil === null || fullPassDue ? oldest : Math.max(oldest, cursor.completedUntil - config.sync.rescan_window_seconds));
  // Resume an interrupted pass of the same window at the second it reached.
  const startAt = options.until === undefined && cursor.passUntil !== null && cursor.positionAt !== null ? cursor.positionAt : until;
  return { since, until, startAt, full: since <= oldest };
}

function shouldTryNegentropy(cursor: SyncCursor, config: Config): boolean {
  if (config.sync.negentropy === 'off') return false;
  if (cursor.negentropy !== 'unsupported' || cursor.negentropyCheckedAt === null) return true;
  return Date.now() - cursor.negentropyCheckedAt >= config.sync.negentropy_recheck_seconds * 1000;
}

export async function syncRelayPass(options: RelaySyncOptions): Promise<RelaySyncResult> {
  const { db, relay, config, pool, logger } = options;
  const now = (options.now ?? (() => Math.floor(Date.now() / 1000)))();
  const cursor = await readCursor(db, relay.id);
  const window = passWindow(cursor, config, options, now);
  const { maxLimit, maxMessageLength } = await knownLimitation(db, relay.id);
  // Negentropy messages travel hex-encoded (twice their size) inside a JSON array: keep them under the
  // relay's advertised message limit, within the protocol's minimum of 4096 bytes.
  const frameSizeLimit = maxMessageLength === undefined ? config.sync.negentropy_frame_size_limit : Math.max(4_096, Math.min(config.sync.negentropy_frame_size_limit || Number.POSITIVE_INFINITY, Math.floor((maxMessageLength - 256) / 2)));
  const pageLimit = maxLimit ? Math.min(config.sync.page_limit, maxLimit) : config.sync.page_limit;
  const metrics = syncMetrics();
  const endTimer = metrics.passSeconds.startTimer();

  let connection: RelayConnection;
  try {
    connection = await RelayConnection.open({ url: relay.url, config: config.relay });
  } catch (error) {
    metrics.passes.inc({ outcome: 'unreachable' });
    endTimer();
    throw error;
  }
  const stats: FetchPageStats = { malformed: 0, endedWithoutEose: 0 };
  const limits = eventLimitsFrom(config.limits);
  const guard = createRequestGuard(connection, {
    minIntervalMs: config.sync.min_request_interval_ms,
    rateLimitRetries: config.sync.rate_limit_retries,
    rateLimitDelayMs: config.sync.rate_limit_delay_ms,
    maxDelayMs: config.sync.retry_max_delay_ms,
    ...(config.identity.secret_key ? { authSecretKey: config.identity.secret_key } : {}),
    authTimeoutMs: config.relay.request_timeout_ms,
    logger,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  let method: RelaySyncResult['method'] = 'req';
  const pipeline = createStorePipeline({
    db,
    pool,
    relayId: relay.id,
    passUntil: window.until,
    config,
    logger,
    inFlight: BATCHES_IN_FLIGHT,
    ...(options.totals ? { totals: options.totals } : {}),
    onCommitted: (positionAt) =>
      options.onProgress?.({ relayUrl: relay.url, method, stored: pipeline.totals.stored, newLinks: pipeline.totals.newLinks, ...(positionAt === undefined ? {} : { positionAt }) }),
  });
  const checkAbort = () => {
    if (options.signal?.aborted) throw new PassAbortedError();
  };
  let report: PassReport = { pages: 0, delivered: 0, outOfFilter: 0, crowdedSeconds: 0, complete: true };
  let negentropy: RelaySyncResult['negentropy'];
  try {
    if (shouldTryNegentropy(cursor, config)) {
      try {
        const reconciled = await reconcileWindow(
          connection,
          connectionIdsFetcher(connection, stats, limits, guard),
          {
            since: window.since,
            until: window.until,
            localItems: (since, until, limit) => relayEventItems(db, relay.id, since, until, limit),
            maxLocalRecords: config.sync.negentropy_max_local_records,
            frameSizeLimit,
            timeoutMs: config.sync.negentropy_timeout_ms,
            fetchBatch: pageLimit,
            maxRequests: config.sync.max_pages_per_pass,
            guard,
            ...(options.signal ? { signal: options.signal } : {}),
          },
          async (events) => {
            checkAbort();
            await pipeline.push(events);
          },
        );
        method = 'negentropy';
        const { sessions, splits, need, gone, missing } = reconciled;
        negentropy = { sessions, splits, need, gone, missing };
        report = { pages: reconciled.sessions + reconciled.requests, delivered: reconciled.delivered, outOfFilter: reconciled.outOfFilter, crowdedSeconds: 0, complete: reconciled.complete, ...(reconciled.incompleteReason ? { incompleteReason: reconciled.incompleteReason } : {}) };
        if (cursor.negentropy !== 'supported') await recordNegentropySupport(db, relay.id, true);
        if (missing > 0) logger.warn({ missing }, 'relay listed events in negentropy that it did not serve by id');
      } catch (error) {
        if (error instanceof NegentropyFrameTooLargeError) {
          // The retry (a network error) pages with REQ instead; NIP-77 is tried again after the recheck period.
          logger.warn({ reason: error.message }, 'negentropy reply too large for this connection; this relay is paged with REQ until the next recheck');
          await recordNegentropySupport(db, relay.id, false);
        }
        if (!(error instanceof NegentropyUnsupportedError)) throw error;
        logger.info({ reason: error.message }, 'relay does not speak NIP-77; paging with REQ');
        await recordNegentropySupport(db, relay.id, false);
        checkAbort();
      }
    }
    if (method === 'req') {
      const paginated: PaginateReport = await paginateWindow(
        connectionPageFetcher(connection, stats, limits, guard),
        {
          since: window.since,
          until: window.startAt,
          pageLimit,
          ...(maxLimit ? { knownMaxLimit: maxLimit } : {}),
          maxPages: config.sync.max_pages_per_pass,
          maxKindsPerFilter: config.sync.max_kinds_per_filter,
        },
        async (events) => {
          checkAbort();
          const oldest = events.reduce((min, event) => Math.min(min, event.created_at), Number.POSITIVE_INFINITY);
          await pipeline.push(events, oldest);
        },
        connectionCounter(connection, guard),
      );
      const { pages, delivered, outOfFilter, crowdedSeconds, complete, incompleteReason } = paginated;
      report = { pages, delivered, outOfFilter, crowdedSeconds, complete, ...(incompleteReason ? { incompleteReason } : {}) };
    }
    await pipeline.drain();
  } catch (error) {
    await pipeline.settle();
    metrics.passes.inc({ outcome: error instanceof PassAbortedError ? 'stopped' : 'failed' });
    throw error;
  } finally {
    connection.close();
    metrics.pages.inc(report.pages);
    metrics.eventsRejected.inc({ reason: 'bad-id' }, pipeline.totals.invalid.badId);
    metrics.eventsRejected.inc({ reason: 'bad-sig' }, pipeline.totals.invalid.badSig);
    metrics.eventsRejected.inc({ reason: 'malformed' }, stats.malformed);
    metrics.eventsRejected.inc({ reason: 'out-of-filter' }, report.outOfFilter);
    endTimer();
  }
  metrics.passes.inc({ outcome: report.complete ? 'complete' : 'incomplete' });
  if (config.sync.per_relay_metrics) {
    const totals = pipeline.totals;
    const invalid = totals.invalid.badId + totals.invalid.badSig + stats.malformed;
    metrics.relayEvents.inc({ relay: relay.url, outcome: 'received' }, report.delivered);
    metrics.relayEvents.inc({ relay: relay.url, outcome: 'stored' }, totals.stored);
    metrics.relayEvents.inc({ relay: relay.url, outcome: 'duplicate' }, Math.max(0, report.delivered - totals.stored - totals.invalid.badId - totals.invalid.badSig));
    metrics.relayEvents.inc({ relay: relay.url, outcome: 'invalid' }, invalid);
    if (report.complete) metrics.relayLag.set({ relay: relay.url }, Math.max(0, Math.floor(Date.now() / 1000) - window.until));
  }
  if (report.outOfFilter > 0) logger.warn({ outOfFilter: report.outOfFilter }, 'relay returned events outside the filter; they were dropped');
  if (report.complete) {
    await completePass(db, { relayId: relay.id, scope: 'all', completedUntil: window.until, full: window.full });
  } else {
    logger.warn({ reason: report.incompleteReason }, 'pass incomplete; it resumes from its cursor next time');
  }
  return {
    relayUrl: relay.url,
    method,
    full: window.full,
    window: { since: window.since, until: window.until },
    report,
    ...(negentropy ? { negentropy } : {}),
    stored: pipeline.totals.stored,
    newLinks: pipeline.totals.newLinks,
    rateLimited: guard.stats.rateLimited,
    authenticated: guard.stats.authenticated,
    invalid: { ...pipeline.totals.invalid, malformed: stats.malformed },
    strictSerialization: pipeline.totals.strictSerialization,
  };
}
