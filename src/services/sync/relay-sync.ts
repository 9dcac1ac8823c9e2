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
 *
 * The steps live in their own modules: pass-plan.ts (window, method, owed windows), owed-windows.ts
 * (working them), pass-report.ts (adding up), pass-outcome.ts (recording and observing the end).
 */
import type { RelaySession } from '../../relay/session.js';
import type { PassPosition } from './store-batch.js';
import { saveFilterLimits } from '../relay-filter-limits.js';
import { openRelaySession } from '../relay-session.js';
import { syncMetrics } from './metrics.js';
import { probeNegentropySupport, workOwedWindows, type PassContext } from './owed-windows.js';
import { logOutcome, observeOutcome, observeWork, recordOutcome, type PassOutcome } from './pass-outcome.js';
import { planOwedWindows, preparePass, shouldTryNegentropy, type PassPlan } from './pass-plan.js';
import { emptyReport, problemLogger } from './pass-report.js';
import { PassAbortedError, type RelaySyncOptions, type RelaySyncResult } from './pass-types.js';
import { createStorePipeline } from './store-pipeline.js';

export { PassAbortedError } from './pass-types.js';
export type { PassProgress, PassReport, RelaySyncOptions, RelaySyncResult } from './pass-types.js';

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

export async function syncRelayPass(options: RelaySyncOptions): Promise<RelaySyncResult> {
  const plan = await preparePass(options);
  const metrics = syncMetrics();
  const endTimer = metrics.passSeconds.startTimer();
  const session = await openPassSession(options).catch((error: unknown) => {
    metrics.passes.inc({ outcome: 'unreachable' });
    endTimer();
    throw error;
  });
  const context = startPass(options, plan, session);
  const heartbeat = startHeartbeat(context);
  try {
    const planned = await planOwedWindows(options.db, options.relay.id, options.config, plan);
    await probeNegentropySupport(context);
    await workOwedWindows(context, planned);
    await context.pipeline.drain();
  } catch (error) {
    await context.pipeline.settle();
    metrics.passes.inc({ outcome: error instanceof PassAbortedError ? 'stopped' : 'failed' });
    throw error;
  } finally {
    clearInterval(heartbeat);
    await closePass(context);
    observeWork(metrics, context);
    endTimer();
  }
  const outcome = await recordOutcome(context);
  observeOutcome(metrics, context, outcome);
  logOutcome(context, outcome);
  return passResult(context, outcome);
}

function openPassSession(options: RelaySyncOptions): Promise<RelaySession> {
  const { relay, config, logger, signal } = options;
  return openRelaySession(relay.url, config, logger, { trusted: relay.trusted ?? true, ...(signal ? { signal } : {}) });
}

/** The pass under way: its store pipeline (reporting progress), its problem log, its method and its totals. */
function startPass(options: RelaySyncOptions, plan: PassPlan, session: RelaySession): PassContext {
  const { db, relay, config, logger } = options;
  const context: PassContext = {
    ...plan,
    options,
    session,
    method: shouldTryNegentropy(plan.cursor, config, plan.startedMs) ? 'negentropy' : 'req',
    pipeline: createStorePipeline({
      db,
      pool: options.pool,
      relayId: relay.id,
      config,
      logger,
      inFlight: db.kind === 'pglite' ? BATCHES_IN_FLIGHT_EMBEDDED : BATCHES_IN_FLIGHT,
      // Batches of small events go 16 at a time; heavy ones (huge events) one page's worth at a time, so
      // a pass's memory does not grow with the count (test/services/huge-events.test.ts).
      maxBytesInFlight: config.sync.max_page_bytes,
      ...(options.budget ? { budget: options.budget } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.totals ? { totals: options.totals } : {}),
      onCommitted: (position) => reportProgress(context, position),
    }),
    onProblem: problemLogger(logger),
    total: emptyReport(),
  };
  return context;
}

function reportProgress(context: PassContext, position: PassPosition | undefined): void {
  const { options, method, pipeline } = context;
  options.onProgress?.({
    relayUrl: options.relay.url,
    method,
    stored: pipeline.totals.stored,
    newLinks: pipeline.totals.newLinks,
    ...(position === undefined ? {} : { positionAt: position.until }),
  });
}

function startHeartbeat(context: PassContext): NodeJS.Timeout {
  const { options, pipeline, clock, startedMs } = context;
  const heartbeat = setInterval(
    () => options.logger.info({ stored: pipeline.totals.stored, elapsedMs: Math.round(clock() - startedMs) }, 'relay pass still running'),
    STILL_RUNNING_LOG_MS,
  );
  heartbeat.unref();
  return heartbeat;
}

/** Closes the connection and keeps the filter limits learned during the pass (a failure to store them is only logged). */
async function closePass(context: PassContext): Promise<void> {
  const { db, relay, logger } = context.options;
  context.session.close();
  await saveFilterLimits(db, relay.id, context.limits).catch((error: unknown) =>
    logger.warn({ err: error }, "could not store the relay's learned filter limits"),
  );
}

function passResult(context: PassContext, outcome: PassOutcome): RelaySyncResult {
  const { options, method, window, negentropy, pipeline, session } = context;
  const values = context.limits.values;
  return {
    relayUrl: options.relay.url,
    method,
    full: window.full,
    window: { since: window.since, until: window.until },
    report: outcome.report,
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
