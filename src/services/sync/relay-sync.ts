/**
 * One pass over one relay. The pass's window is [since, now]: from the archived point minus the
 * re-scan window on a regular visit; from `sync.since` on a first or full pass, and on every pass of a
 * relay that speaks NIP-77 (reconciling everything is cheap, and catches backdated events at once).
 *
 * The window is first written down as an owed window (`sync_gap`), together with the relay's other
 * due owed windows (merged where they touch); each is then worked newest first, by NIP-77 negentropy
 * where the relay offers it and by REQ pagination otherwise. Committing events shrinks the window
 * being worked, in the same transaction, so a pass stopped at any point (kill -9, a budget, an error)
 * leaves exactly its remainder owed; scopes no method could prove (refusals, silence, crowded seconds
 * over the relay's cap) become owed windows of their own, retried with backoff by later passes, by
 * whatever method works then. `complete` is reported only when nothing is owed.
 */
import type { Config } from '../../config/schema.js';
import type { Database } from '../../db/database.js';
import { authorsOfSecond, idsOfAuthorsInSecond } from '../../db/event-authors.js';
import { relayEventItems } from '../../db/relay-events.js';
import { knownLimitation } from '../../db/relay-metadata.js';
import { recordWithheld, withheldIds } from '../../db/relay-withheld.js';
import { deleteOwed, insertOwed, owedSummary, planOwed, settleOwedWithin, type OwedRow } from '../../db/sync-gaps.js';
import { advanceCompletedUntil, readCursor, recordNegentropySupport, recordPassOutcome, type SyncCursor } from '../../db/sync-cursors.js';
import type { Logger } from '../../observability/logger.js';
import type { RelayFilterLimits } from '../../relay/filter-limits.js';
import { NegentropyUnsupportedError, probeNegentropy, reconcileWindow, type ReconcileReport } from '../../relay/negentropy-window.js';
import {
  paginateWindow,
  type IncompleteReason,
  type OwedWindow,
  type PaginateOptions,
  type PaginateReport,
  type Problem,
} from '../../relay/paginate.js';
import type { RelaySession } from '../../relay/session.js';
import type { VerifyPool } from '../../verify/pool.js';
import { loadFilterLimits, saveFilterLimits } from '../relay-filter-limits.js';
import { openRelaySession } from '../relay-session.js';
import type { ByteBudget } from './byte-budget.js';
import { syncMetrics } from './metrics.js';
import { createStorePipeline, type StorePipeline, type StoreTotals } from './store-pipeline.js';

/**
 * Batches of a pass held at once between fetching and committing: fetching, verification and the
 * insert use different resources (the relay, the worker threads, the database), so batches in flight
 * keep them all busy, and those verified while an earlier one commits share the next transaction.
 * With 4, about a tenth of two cores went idle between stages in the sync benchmark; 16 halved that
 * (docs/benchmarks.md, 2026-12-03). A pass also holds at most one page's worth of bytes
 * (`sync.max_page_bytes`) in flight, and all passes together the process-wide byte budget.
 */
const BATCHES_IN_FLIGHT = 16;
/**
 * With the embedded database the insert runs in this process and is the slowest stage by far: more
 * batches only wait longer, in memory (a sync of 200,000 events into PGlite peaked at 393-444 MB with
 * 16, 395-407 MB with 4, in the same time; docs/benchmarks.md).
 */
const BATCHES_IN_FLIGHT_EMBEDDED = 4;
/** While a pass runs, a line says so this often (a slow relay is never silent in the logs). */
const STILL_RUNNING_LOG_MS = 60_000;

/** The pass was stopped by a signal between pages; what was committed stays. */
export class PassAbortedError extends Error {
  constructor() {
    super('sync pass stopped');
    this.name = 'PassAbortedError';
  }
}

/** What a pass reports, whichever method it used. */
export interface PassReport {
  /** Requests sent: REQ pages, COUNTs and negentropy sessions. */
  requests: number;
  delivered: number;
  outOfFilter: number;
  /** Seconds that overflowed one page and were split (REQ pagination). */
  crowdedSeconds: number;
  /** True only when the pass proved its whole window and the relay owes nothing. */
  complete: boolean;
  /** Why not complete, in words (the first reason). */
  incompleteReason?: string;
  /** Requests the relay refused (CLOSED, or a NOTICE answering them). */
  refusals: number;
  /** Problems by kind (refused, stalled, crowded, ignores-time, …), each counted. */
  problems: Partial<Record<IncompleteReason, number>>;
  /** Owed windows of this relay after the pass, and the seconds of history they cover. */
  owed: { windows: number; seconds: number };
  /** Ids the relay lists (NIP-77) but does not serve us: skipped as known, or found this pass. */
  withheld: number;
  /** The pass ended early: its request bound or its time budget. The rest waits for the next pass. */
  stopped?: 'request-bound' | 'time-budget';
  elapsedMs: number;
}

export interface RelaySyncResult {
  relayUrl: string;
  method: 'negentropy' | 'req';
  /** A pass over the whole history (first pass, scheduled full pass, NIP-77, or --since 0). */
  full: boolean;
  window: { since: number; until: number };
  report: PassReport;
  /** Negentropy details: ids needed, ids the relay no longer serves, ids it did not deliver. */
  negentropy?: Pick<ReconcileReport, 'sessions' | 'splits' | 'need' | 'gone' | 'missing' | 'reqFallbacks'>;
  stored: number;
  newLinks: number;
  /** Requests the relay refused with a rate limit (each retried after slowing down). */
  rateLimited: number;
  /** Whether we answered a NIP-42 AUTH challenge successfully during the pass. */
  authenticated: boolean;
  invalid: { badId: number; badSig: number; malformed: number };
  /** Events whose id matched only the NIP-01-strict serialization (not JSON.stringify's). */
  strictSerialization: number;
  /** Events whose exact signature the archive held already: only their id was checked. */
  knownSignatures: number;
  /** The relay's filter limits as known after the pass. */
  limits: {
    pageLimit: number;
    maxKinds: number;
    maxAuthors: number;
    maxIds: number;
    maxFilters: number;
    requiresKinds: boolean;
    count?: string;
  };
}

export interface RelaySyncOptions {
  db: Database;
  /**
   * `trusted`: the operator named the relay (seed file, config, --relay), so any address is accepted;
   * otherwise its host is screened by the outbound policy first. Unset: trusted (the caller named it).
   */
  relay: { id: number; url: string; trusted?: boolean };
  config: Config;
  pool: VerifyPool;
  logger: Logger;
  /** Stops the pass between pages (the page in flight is committed first). */
  signal?: AbortSignal;
  /** Overrides of the window (CLI --since/--until). */
  since?: number;
  until?: number;
  /** The wall clock in ms (tests inject one); windows, schedules and budgets all read it. */
  clock?: () => number;
  /** Totals carried across retried attempts of one pass (the result then reports all of them). */
  totals?: StoreTotals;
  /** The process-wide bound on fetched bytes held before commit. */
  budget?: ByteBudget;
  /** Called after each committed batch (progress display). */
  onProgress?: (progress: PassProgress) => void;
}

export interface PassProgress {
  relayUrl: string;
  method: RelaySyncResult['method'];
  stored: number;
  newLinks: number;
  /** The second the window being worked has come down to, when known. */
  positionAt?: number;
}

interface PassWindow {
  since: number;
  until: number;
  full: boolean;
}

function passWindow(cursor: SyncCursor, config: Config, options: RelaySyncOptions, nowMs: number): PassWindow {
  const now = Math.floor(nowMs / 1000);
  const until = options.until ?? now;
  const fullPassDue =
    config.sync.full_pass_interval_seconds > 0 &&
    (cursor.lastFullPassAt === null || nowMs - cursor.lastFullPassAt >= config.sync.full_pass_interval_seconds * 1000);
  // With event retention, nothing older than its cutoff is fetched again (maintenance drops it).
  const retentionFloor = config.maintenance.event_retention_days > 0 ? now - config.maintenance.event_retention_days * 86_400 : 0;
  const oldest = Math.max(config.sync.since, retentionFloor);
  const wholeRange = cursor.negentropy === 'supported' && config.sync.negentropy !== 'off' && config.sync.negentropy_full_range;
  const since =
    options.since ??
    (cursor.completedUntil === null || fullPassDue || wholeRange
      ? oldest
      : Math.max(oldest, cursor.completedUntil - config.sync.rescan_window_seconds));
  return { since: Math.min(since, until), until, full: since <= oldest };
}

function shouldTryNegentropy(cursor: SyncCursor, config: Config, nowMs: number): boolean {
  if (config.sync.negentropy === 'off') return false;
  if (cursor.negentropy !== 'unsupported' || cursor.negentropyCheckedAt === null) return true;
  return nowMs - cursor.negentropyCheckedAt >= config.sync.negentropy_recheck_seconds * 1000;
}

const PROBLEM_MESSAGES: Record<IncompleteReason, string> = {
  refused: 'relay refused a request',
  stalled: 'relay stopped answering a request before EOSE; that window stays owed',
  crowded: "a crowded second could not be proven complete within the relay's limits; it stays owed",
  'ignores-time': 'relay answers outside the requested window (ignores since/until); the rest stays owed',
  'request-bound': 'pass reached its request bound; the rest of the window waits for the next pass',
  'time-budget': 'pass reached its time budget; the rest of the window waits for the next pass',
  withheld: 'relay lists events it does not serve us',
  unreconciled: 'NIP-77 could not reconcile a window; it is paged with REQ',
};

/** What the pass's windows add up to, before the relay's owed windows are counted. */
type WindowsReport = Omit<PassReport, 'owed' | 'elapsedMs'>;

function emptyReport(): WindowsReport {
  return { requests: 0, delivered: 0, outOfFilter: 0, crowdedSeconds: 0, complete: true, refusals: 0, problems: {}, withheld: 0 };
}

function addReport(
  total: WindowsReport,
  part: Pick<PaginateReport, 'delivered' | 'outOfFilter' | 'refusals' | 'problems' | 'complete' | 'incompleteReason' | 'stopped'> & {
    requests: number;
    crowdedSeconds?: number;
  },
): void {
  total.requests += part.requests;
  total.delivered += part.delivered;
  total.outOfFilter += part.outOfFilter;
  total.crowdedSeconds += part.crowdedSeconds ?? 0;
  total.refusals += part.refusals;
  for (const [reason, count] of Object.entries(part.problems))
    total.problems[reason as IncompleteReason] = (total.problems[reason as IncompleteReason] ?? 0) + count;
  if (!part.complete) {
    total.complete = false;
    total.incompleteReason ??= part.incompleteReason;
  }
  if (part.stopped) total.stopped = part.stopped;
}

export async function syncRelayPass(options: RelaySyncOptions): Promise<RelaySyncResult> {
  const { db, relay, config, logger } = options;
  const clock = options.clock ?? Date.now;
  const startedMs = clock();
  const deadline = startedMs + config.sync.pass_time_budget_seconds * 1000;
  const cursor = await readCursor(db, relay.id);
  const window = passWindow(cursor, config, options, startedMs);
  const limits = await loadFilterLimits(db, relay.id, config, startedMs);
  const { maxMessageLength } = await knownLimitation(db, relay.id);
  // Negentropy messages travel hex-encoded (twice their size) inside a JSON array: keep them under the
  // relay's advertised message limit, within the protocol's minimum of 4096 bytes.
  const frameSizeLimit =
    maxMessageLength === undefined
      ? config.sync.negentropy_frame_size_limit
      : Math.max(
          4_096,
          Math.min(config.sync.negentropy_frame_size_limit || Number.POSITIVE_INFINITY, Math.floor((maxMessageLength - 256) / 2)),
        );
  const metrics = syncMetrics();
  const endTimer = metrics.passSeconds.startTimer();

  let session: RelaySession;
  try {
    session = await openRelaySession(relay.url, config, logger, {
      trusted: relay.trusted ?? true,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    metrics.passes.inc({ outcome: 'unreachable' });
    endTimer();
    throw error;
  }
  let method: RelaySyncResult['method'] = shouldTryNegentropy(cursor, config, startedMs) ? 'negentropy' : 'req';
  const pipeline = createStorePipeline({
    db,
    pool: options.pool,
    relayId: relay.id,
    config,
    logger,
    inFlight: options.db.kind === 'pglite' ? BATCHES_IN_FLIGHT_EMBEDDED : BATCHES_IN_FLIGHT,
    // Batches of small events go 16 at a time; heavy ones (huge events) one page's worth at a time, so
    // a pass's memory does not grow with the count (test/services/huge-events.test.ts).
    maxBytesInFlight: config.sync.max_page_bytes,
    ...(options.budget ? { budget: options.budget } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.totals ? { totals: options.totals } : {}),
    onCommitted: (position) =>
      options.onProgress?.({
        relayUrl: relay.url,
        method,
        stored: pipeline.totals.stored,
        newLinks: pipeline.totals.newLinks,
        ...(position === undefined ? {} : { positionAt: position.until }),
      }),
  });
  const problemsLogged = new Set<IncompleteReason>();
  const onProblem = (problem: Problem) => {
    if (problemsLogged.has(problem.reason)) return;
    problemsLogged.add(problem.reason);
    logger.warn(
      { reason: problem.reason, detail: problem.detail, ...(problem.filter ? { filter: problem.filter } : {}) },
      PROBLEM_MESSAGES[problem.reason],
    );
  };
  const heartbeat = setInterval(
    () => logger.info({ stored: pipeline.totals.stored, elapsedMs: Math.round(clock() - startedMs) }, 'relay pass still running'),
    STILL_RUNNING_LOG_MS,
  );
  heartbeat.unref();
  const total = emptyReport();
  let negentropy: RelaySyncResult['negentropy'];
  const context: RangeContext = { options, session, limits, pipeline, deadline, clock, frameSizeLimit, onProblem };
  try {
    const { rows, lastId } = await db.transaction(async (tx) => {
      if (cursor.passUntil !== null) {
        // A pass of an older release was interrupted: its unfinished part becomes an owed window.
        await insertOwed(
          tx,
          relay.id,
          { since: config.sync.since, until: cursor.positionAt ?? cursor.passUntil, reason: 'interrupted pass', attempts: 0 },
          startedMs,
        );
      }
      await advanceCompletedUntil(tx, relay.id, window.until);
      return planOwed(tx, relay.id, window, config.sync.owed_windows_per_pass, startedMs);
    });
    if (method === 'negentropy' && cursor.negentropy !== 'supported') {
      try {
        await probeNegentropy(session, window.until, config.sync.negentropy_probe_timeout_ms, frameSizeLimit);
      } catch (error) {
        if (!(error instanceof NegentropyUnsupportedError)) throw error;
        logger.info({ reason: error.message }, 'relay does not speak NIP-77; paging with REQ');
        await recordNegentropySupport(db, relay.id, false, clock());
        method = 'req';
      }
      total.requests += 1;
    }
    const withheld = method === 'negentropy' ? await withheldIds(db, relay.id, config.sync.withheld_recheck_seconds) : new Set<string>();
    for (const range of rows) {
      if (options.signal?.aborted) throw new PassAbortedError();
      if (clock() >= deadline) {
        total.stopped = 'time-budget';
        total.complete = false;
        total.incompleteReason ??= "the pass's time budget ran out; the rest waits for the next pass";
        onProblem({ reason: 'time-budget', detail: `${config.sync.pass_time_budget_seconds} s` });
        break;
      }
      const budgetLeft = config.sync.max_pages_per_pass - total.requests;
      if (method === 'negentropy') {
        try {
          const reconciled = await reconcileRange(context, range, withheld, budgetLeft);
          addReport(total, { ...reconciled, requests: reconciled.sessions + reconciled.requests });
          total.withheld += reconciled.withheld + reconciled.missing;
          negentropy = {
            sessions: (negentropy?.sessions ?? 0) + reconciled.sessions,
            splits: (negentropy?.splits ?? 0) + reconciled.splits,
            need: (negentropy?.need ?? 0) + reconciled.need,
            gone: (negentropy?.gone ?? 0) + reconciled.gone,
            missing: (negentropy?.missing ?? 0) + reconciled.missing,
            reqFallbacks: (negentropy?.reqFallbacks ?? 0) + reconciled.reqFallbacks,
          };
          if (cursor.negentropy !== 'supported') await recordNegentropySupport(db, relay.id, true, clock());
          if (reconciled.stopped) break;
          await finishRange(context, range, lastId);
          continue;
        } catch (error) {
          if (!(error instanceof NegentropyUnsupportedError)) throw error;
          logger.info({ reason: error.message }, 'relay does not speak NIP-77; paging with REQ');
          await recordNegentropySupport(db, relay.id, false, clock());
          method = 'req';
        }
      }
      const paged = await pageRange(context, range, budgetLeft);
      addReport(total, paged);
      if (paged.stopped) break;
      await finishRange(context, range, lastId);
    }
    await pipeline.drain();
  } catch (error) {
    await pipeline.settle();
    metrics.passes.inc({ outcome: error instanceof PassAbortedError ? 'stopped' : 'failed' });
    throw error;
  } finally {
    clearInterval(heartbeat);
    session.close();
    await saveFilterLimits(db, relay.id, limits).catch((error: unknown) =>
      logger.warn({ err: error }, "could not store the relay's learned filter limits"),
    );
    metrics.pages.inc(total.requests);
    metrics.eventsRejected.inc({ reason: 'bad-id' }, pipeline.totals.invalid.badId);
    metrics.eventsRejected.inc({ reason: 'bad-sig' }, pipeline.totals.invalid.badSig);
    metrics.eventsRejected.inc({ reason: 'malformed' }, session.stats.malformed);
    metrics.eventsRejected.inc({ reason: 'out-of-filter' }, total.outOfFilter);
    metrics.refusals.inc(total.refusals);
    for (const [reason, count] of Object.entries(total.problems)) metrics.problems.inc({ reason }, count);
    endTimer();
  }
  const owed = await owedSummary(db, relay.id);
  const complete = total.complete && total.stopped === undefined && owed.windows === 0;
  const incompleteReason = complete
    ? undefined
    : (total.incompleteReason ?? `${owed.windows} owed window(s) from earlier passes, oldest: ${owed.oldestReason ?? 'unknown'}`);
  const report: PassReport = {
    ...total,
    complete,
    ...(incompleteReason ? { incompleteReason } : {}),
    owed: { windows: owed.windows, seconds: owed.seconds },
    elapsedMs: Math.round(clock() - startedMs),
  };
  await recordPassOutcome(db, relay.id, {
    complete,
    ...(incompleteReason ? { reason: incompleteReason } : {}),
    requests: total.requests,
    full: window.full && total.stopped === undefined,
    atMs: startedMs,
  });
  metrics.passes.inc({ outcome: complete ? 'complete' : 'incomplete' });
  if (config.sync.per_relay_metrics) {
    const totals = pipeline.totals;
    const invalid = totals.invalid.badId + totals.invalid.badSig + session.stats.malformed;
    metrics.relayEvents.inc({ relay: relay.url, outcome: 'received' }, total.delivered);
    metrics.relayEvents.inc({ relay: relay.url, outcome: 'stored' }, totals.stored);
    metrics.relayEvents.inc(
      { relay: relay.url, outcome: 'duplicate' },
      Math.max(0, total.delivered - totals.stored - totals.invalid.badId - totals.invalid.badSig),
    );
    metrics.relayEvents.inc({ relay: relay.url, outcome: 'invalid' }, invalid);
    metrics.relayOwed.set({ relay: relay.url }, owed.windows);
    if (complete) metrics.relayLag.set({ relay: relay.url }, Math.max(0, Math.floor(clock() / 1000) - window.until));
  }
  if (total.outOfFilter > 0) logger.warn({ outOfFilter: total.outOfFilter }, 'relay returned events outside the filter; they were dropped');
  if (!complete)
    logger.warn(
      { reason: incompleteReason, owedWindows: owed.windows, requests: total.requests },
      'pass incomplete; what is not proven stays owed and is retried by later passes',
    );
  const values = limits.values;
  return {
    relayUrl: relay.url,
    method,
    full: window.full,
    window: { since: window.since, until: window.until },
    report,
    ...(negentropy ? { negentropy } : {}),
    stored: pipeline.totals.stored,
    newLinks: pipeline.totals.newLinks,
    rateLimited: session.guard.stats.rateLimited,
    authenticated: session.guard.stats.authenticated,
    invalid: { ...pipeline.totals.invalid, malformed: session.stats.malformed },
    strictSerialization: pipeline.totals.strictSerialization,
    knownSignatures: pipeline.totals.knownSignatures,
    limits: {
      pageLimit: values.pageLimit,
      maxKinds: values.maxKinds,
      maxAuthors: values.maxAuthors,
      maxIds: values.maxIds,
      maxFilters: values.maxFilters,
      requiresKinds: values.requiresKinds,
      ...(values.count ? { count: values.count } : {}),
    },
  };
}

interface RangeContext {
  options: RelaySyncOptions;
  session: RelaySession;
  limits: RelayFilterLimits;
  pipeline: StorePipeline;
  deadline: number;
  clock: () => number;
  frameSizeLimit: number;
  onProblem: (problem: Problem) => void;
}

/** Owed windows found while working `range` are due again after a backoff that grows with its attempts. */
function oweUnder(context: RangeContext, range: OwedRow): (window: OwedWindow) => Promise<void> {
  const { db, relay, config } = context.options;
  const attempts = range.attempts + 1;
  const retryAfter = Math.min(config.sync.owed_retry_max_seconds, config.sync.owed_retry_seconds * 2 ** Math.min(attempts - 1, 20));
  return async (window) => {
    await insertOwed(
      db,
      relay.id,
      { since: window.since, until: window.until, reason: `${window.reason}: ${window.detail}`, attempts },
      context.clock() + retryAfter * 1000,
    );
  };
}

/** Most archived authors (or ids) named when splitting one crowded second of one kind (each chunk the relay accepts is a request). */
const KNOWN_IN_SECOND_LIMIT = 10_000;

/** What the archive holds of one kind and second (authors, then ids by author), for splitting a crowded second. */
function knownInArchive(context: RangeContext): Pick<PaginateOptions, 'knownAuthors' | 'knownIds'> {
  const { db } = context.options;
  return {
    knownAuthors: (second, kind) => authorsOfSecond(db, second, kind, KNOWN_IN_SECOND_LIMIT),
    knownIds: (second, kind, authors) => idsOfAuthorsInSecond(db, second, kind, authors, KNOWN_IN_SECOND_LIMIT),
  };
}

function checkAbort(context: RangeContext): void {
  if (context.options.signal?.aborted) throw new PassAbortedError();
}

/** REQ pagination of one owed window; committed batches shrink it. */
function pageRange(context: RangeContext, range: OwedRow, maxRequests: number): Promise<PaginateReport> {
  const { session, limits, pipeline, deadline, clock, onProblem } = context;
  return paginateWindow(
    session.fetchPage,
    {
      since: range.since,
      until: range.until,
      limits,
      maxRequests,
      deadline,
      now: clock,
      countEvents: session.count,
      ...knownInArchive(context),
      onOwed: oweUnder(context, range),
      onProblem,
    },
    async (events, position) => {
      checkAbort(context);
      await pipeline.push(events, position ? { owedId: range.id, until: position.until } : undefined);
    },
  );
}

/** NIP-77 reconciliation of one owed window, with REQ for the seconds it cannot reconcile. */
function reconcileRange(
  context: RangeContext,
  range: OwedRow,
  withheld: ReadonlySet<string>,
  maxRequests: number,
): Promise<ReconcileReport> {
  const { options, session, limits, pipeline, deadline, clock, frameSizeLimit, onProblem } = context;
  const { db, relay, config } = options;
  const onOwed = oweUnder(context, range);
  return reconcileWindow(
    session,
    {
      since: range.since,
      until: range.until,
      localItems: (since, until, limit) => relayEventItems(db, relay.id, since, until, limit),
      maxLocalRecords: config.sync.negentropy_max_local_records,
      frameSizeLimit,
      timeoutMs: config.sync.negentropy_timeout_ms,
      limits,
      maxRequests,
      deadline,
      now: clock,
      withheld,
      pageWindow: (since, until) =>
        paginateWindow(
          session.fetchPage,
          {
            since,
            until,
            limits,
            maxRequests,
            deadline,
            now: clock,
            countEvents: session.count,
            ...knownInArchive(context),
            onOwed,
            onProblem,
          },
          async (events, position) => {
            checkAbort(context);
            await pipeline.push(events, position ? { owedId: range.id, until: position.until } : undefined);
          },
        ),
      onOwed,
      onProblem,
      onWithheld: async (ids, reason) => {
        await recordWithheld(db, relay.id, ids, reason);
        onProblem({ reason: 'withheld', detail: `${ids.length} listed ids not served by id (${reason})` });
      },
      onPosition: async (second) => {
        checkAbort(context);
        await pipeline.push([], { owedId: range.id, until: second });
      },
      ...(options.signal ? { signal: options.signal } : {}),
    },
    async (events) => {
      checkAbort(context);
      await pipeline.push(events);
    },
  );
}

/** A window worked to its end: once its events are committed it is no longer owed (its unproven parts were owed anew). */
async function finishRange(context: RangeContext, range: OwedRow, lastId: number): Promise<void> {
  const { db, relay } = context.options;
  await context.pipeline.drain();
  await deleteOwed(db, range.id);
  await settleOwedWithin(db, relay.id, range, lastId);
}
