/**
 * Working a pass's owed windows, newest first: each by NIP-77 negentropy while the relay speaks it and
 * by REQ pagination otherwise. Committed batches shrink the window being worked; a window worked to its
 * end stops being owed, and the scopes no method could prove are owed anew, due again after a backoff.
 */
import { authorsOfSecond, idsOfAuthorsInSecond } from '../../db/event-authors.js';
import { relayEventItems } from '../../db/relay-events.js';
import { recordWithheld, withheldIds } from '../../db/relay-withheld.js';
import { recordNegentropySupport } from '../../db/sync-cursors.js';
import { deleteOwed, insertOwed, settleOwedWithin, type OwedRow } from '../../db/sync-gaps.js';
import { NegentropyUnsupportedError, probeNegentropy, reconcileWindow, type ReconcileReport } from '../../relay/negentropy-window.js';
import { paginateWindow, type OwedWindow, type PaginateOptions, type PaginateReport, type Problem } from '../../relay/paginate.js';
import type { RelaySession } from '../../relay/session.js';
import type { PassPlan } from './pass-plan.js';
import { addNegentropy, addReport } from './pass-report.js';
import { PassAbortedError, type NegentropyTotals, type RelaySyncOptions, type RelaySyncResult, type WindowsReport } from './pass-types.js';
import type { StorePipeline } from './store-pipeline.js';

/** One pass under way: what it was given and planned, its connection and store, and what it has added up. */
export interface PassContext extends PassPlan {
  options: RelaySyncOptions;
  session: RelaySession;
  pipeline: StorePipeline;
  onProblem: (problem: Problem) => void;
  /** NIP-77 when worth trying; REQ from the moment the relay turns out not to speak it. */
  method: RelaySyncResult['method'];
  total: WindowsReport;
  negentropy?: NegentropyTotals;
}

/** A relay not yet known to speak NIP-77 is probed once (one request) before its windows are worked. */
export async function probeNegentropySupport(context: PassContext): Promise<void> {
  const { cursor, session, window, frameSizeLimit, options } = context;
  if (context.method !== 'negentropy' || cursor.negentropy === 'supported') return;
  try {
    await probeNegentropy(session, window.until, options.config.sync.negentropy_probe_timeout_ms, frameSizeLimit);
  } catch (error) {
    if (!(error instanceof NegentropyUnsupportedError)) throw error;
    await fallBackToReq(context, error);
  }
  context.total.requests += 1;
}

/** Works the planned owed windows until all are done or a signal, the time budget or the request bound stops the pass. */
export async function workOwedWindows(context: PassContext, planned: { rows: OwedRow[]; lastId: number }): Promise<void> {
  const { db, relay, config } = context.options;
  const withheld =
    context.method === 'negentropy' ? await withheldIds(db, relay.id, config.sync.withheld_recheck_seconds) : new Set<string>();
  for (const range of planned.rows) {
    checkAbort(context);
    if (timeBudgetSpent(context)) break;
    const budgetLeft = config.sync.max_pages_per_pass - context.total.requests;
    const finished = await workRange(context, range, withheld, budgetLeft);
    if (!finished) break;
    await finishRange(context, range, planned.lastId);
  }
}

/** True (and the pass marked stopped) once the pass's time budget, by its clock, has run out. */
function timeBudgetSpent(context: PassContext): boolean {
  if (context.clock() < context.deadline) return false;
  const { total } = context;
  total.stopped = 'time-budget';
  total.complete = false;
  total.incompleteReason ??= "the pass's time budget ran out; the rest waits for the next pass";
  context.onProblem({ reason: 'time-budget', detail: `${context.options.config.sync.pass_time_budget_seconds} s` });
  return true;
}

/** One owed window by NIP-77, or by REQ pages (also when NIP-77 turns out unsupported); false when the pass stops in it. */
async function workRange(context: PassContext, range: OwedRow, withheld: ReadonlySet<string>, maxRequests: number): Promise<boolean> {
  if (context.method === 'negentropy') {
    const reconciled = await reconcileUnlessUnsupported(context, range, withheld, maxRequests);
    if (reconciled) return !reconciled.stopped;
  }
  const paged = await pageRange(context, range, maxRequests);
  addReport(context.total, paged);
  return !paged.stopped;
}

/** Reconciles one window and adds up its report; undefined when the relay does not speak NIP-77 (the pass turns to REQ). */
async function reconcileUnlessUnsupported(
  context: PassContext,
  range: OwedRow,
  withheld: ReadonlySet<string>,
  maxRequests: number,
): Promise<ReconcileReport | undefined> {
  const { db, relay } = context.options;
  let reconciled: ReconcileReport;
  try {
    reconciled = await reconcileRange(context, range, withheld, maxRequests);
  } catch (error) {
    if (!(error instanceof NegentropyUnsupportedError)) throw error;
    await fallBackToReq(context, error);
    return undefined;
  }
  addReport(context.total, { ...reconciled, requests: reconciled.sessions + reconciled.requests });
  context.total.withheld += reconciled.withheld + reconciled.missing;
  context.negentropy = addNegentropy(context.negentropy, reconciled);
  if (context.cursor.negentropy !== 'supported') await recordNegentropySupport(db, relay.id, true, context.clock());
  return reconciled;
}

async function fallBackToReq(context: PassContext, error: NegentropyUnsupportedError): Promise<void> {
  const { db, relay, logger } = context.options;
  logger.info({ reason: error.message }, 'relay does not speak NIP-77; paging with REQ');
  await recordNegentropySupport(db, relay.id, false, context.clock());
  context.method = 'req';
}

/** Owed windows found while working `range` are due again after a backoff that grows with its attempts. */
function oweUnder(context: PassContext, range: OwedRow): (window: OwedWindow) => Promise<void> {
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
function knownInArchive(context: PassContext): Pick<PaginateOptions, 'knownAuthors' | 'knownIds'> {
  const { db } = context.options;
  return {
    knownAuthors: (second, kind) => authorsOfSecond(db, second, kind, KNOWN_IN_SECOND_LIMIT),
    knownIds: (second, kind, authors) => idsOfAuthorsInSecond(db, second, kind, authors, KNOWN_IN_SECOND_LIMIT),
  };
}

function checkAbort(context: PassContext): void {
  if (context.options.signal?.aborted) throw new PassAbortedError();
}

/** REQ pagination of one owed window; committed batches shrink it. */
function pageRange(context: PassContext, range: OwedRow, maxRequests: number): Promise<PaginateReport> {
  return pageSpan(context, range, { since: range.since, until: range.until }, maxRequests, oweUnder(context, range));
}

/** REQ pagination of `span`, a part of the owed window `range` (all of it, or seconds NIP-77 could not reconcile). */
function pageSpan(
  context: PassContext,
  range: OwedRow,
  span: { since: number; until: number },
  maxRequests: number,
  onOwed: (window: OwedWindow) => Promise<void>,
): Promise<PaginateReport> {
  const { session, limits, pipeline, deadline, clock, onProblem } = context;
  return paginateWindow(
    session.fetchPage,
    {
      since: span.since,
      until: span.until,
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
  );
}

/** NIP-77 reconciliation of one owed window, with REQ for the seconds it cannot reconcile. */
function reconcileRange(
  context: PassContext,
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
      pageWindow: (since, until) => pageSpan(context, range, { since, until }, maxRequests, onOwed),
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
async function finishRange(context: PassContext, range: OwedRow, lastId: number): Promise<void> {
  const { db, relay } = context.options;
  await context.pipeline.drain();
  await deleteOwed(db, range.id);
  await settleOwedWithin(db, relay.id, range, lastId);
}
