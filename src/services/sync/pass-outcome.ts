/**
 * The end of a relay pass: whether it proved everything (its windows proven, nothing stopped, nothing
 * owed), recorded on the relay's cursor; the metrics it adds; and the warnings an operator should see.
 */
import { recordPassOutcome } from '../../db/sync-cursors.js';
import { owedSummary, type OwedSummary } from '../../db/sync-gaps.js';
import type { syncMetrics } from './metrics.js';
import type { PassContext } from './owed-windows.js';
import type { PassReport, RelaySyncResult } from './pass-types.js';

type SyncMetrics = ReturnType<typeof syncMetrics>;

export interface PassOutcome {
  owed: OwedSummary;
  complete: boolean;
  incompleteReason: string | undefined;
  report: PassReport;
}

/** Counts what the relay still owes, settles whether the pass was complete and records it on the cursor. */
export async function recordOutcome(context: PassContext): Promise<PassOutcome> {
  const { db, relay } = context.options;
  const { total, window, clock, startedMs } = context;
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
  return { owed, complete, incompleteReason, report };
}

/** What the pass sent and rejected, counted whether it ended well or not. */
export function observeWork(metrics: SyncMetrics, context: PassContext): void {
  const { total, pipeline, session } = context;
  metrics.pages.inc(total.requests);
  metrics.eventsRejected.inc({ reason: 'bad-id' }, pipeline.totals.invalid.badId);
  metrics.eventsRejected.inc({ reason: 'bad-sig' }, pipeline.totals.invalid.badSig);
  metrics.eventsRejected.inc({ reason: 'malformed' }, session.stats.malformed);
  metrics.eventsRejected.inc({ reason: 'out-of-filter' }, total.outOfFilter);
  metrics.refusals.inc(total.refusals);
  for (const [reason, count] of Object.entries(total.problems)) metrics.problems.inc({ reason }, count);
}

/** The pass's outcome, and with `sync.per_relay_metrics` the relay's own counts, owed windows and lag. */
export function observeOutcome(metrics: SyncMetrics, context: PassContext, outcome: PassOutcome): void {
  const { options, total, pipeline, session, window, clock } = context;
  const url = options.relay.url;
  metrics.passes.inc({ outcome: outcome.complete ? 'complete' : 'incomplete' });
  if (!options.config.sync.per_relay_metrics) return;
  const totals = pipeline.totals;
  const invalid = totals.invalid.badId + totals.invalid.badSig + session.stats.malformed;
  metrics.relayEvents.inc({ relay: url, outcome: 'received' }, total.delivered);
  metrics.relayEvents.inc({ relay: url, outcome: 'stored' }, totals.stored);
  metrics.relayEvents.inc(
    { relay: url, outcome: 'duplicate' },
    Math.max(0, total.delivered - totals.stored - totals.invalid.badId - totals.invalid.badSig),
  );
  metrics.relayEvents.inc({ relay: url, outcome: 'invalid' }, invalid);
  metrics.relayOwed.set({ relay: url }, outcome.owed.windows);
  if (outcome.complete) metrics.relayLag.set({ relay: url }, Math.max(0, Math.floor(clock() / 1000) - window.until));
}

export function logOutcome(context: PassContext, outcome: PassOutcome): void {
  const { options, total } = context;
  const { logger } = options;
  if (total.outOfFilter > 0) logger.warn({ outOfFilter: total.outOfFilter }, 'relay returned events outside the filter; they were dropped');
  if (!outcome.complete)
    logger.warn(
      { reason: outcome.incompleteReason, owedWindows: outcome.owed.windows, requests: total.requests },
      'pass incomplete; what is not proven stays owed and is retried by later passes',
    );
}

/** What the log line closing a relay pass says, wherever the pass ran (`sync --once` or the service). */
export function passLogFields(result: RelaySyncResult): Record<string, unknown> {
  return {
    method: result.method,
    full: result.full,
    stored: result.stored,
    requests: result.report.requests,
    refusals: result.report.refusals,
    owedWindows: result.report.owed.windows,
    complete: result.report.complete,
    elapsedMs: result.report.elapsedMs,
    invalid: result.invalid,
  };
}
