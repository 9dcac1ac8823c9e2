/**
 * Adding up what a pass's windows report (requests, deliveries, refusals, problems by kind), and the
 * warning each kind of problem logs: once per pass, so a relay that refuses every request does not
 * fill the log.
 */
import type { Logger } from '../../observability/logger.js';
import type { ReconcileReport } from '../../relay/negentropy-window.js';
import type { IncompleteReason, PaginateReport, Problem } from '../../relay/paginate.js';
import type { NegentropyTotals, WindowsReport } from './pass-types.js';

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

/** Logs the first problem of each kind met during one pass. */
export function problemLogger(logger: Logger): (problem: Problem) => void {
  const problemsLogged = new Set<IncompleteReason>();
  return (problem) => {
    if (problemsLogged.has(problem.reason)) return;
    problemsLogged.add(problem.reason);
    logger.warn(
      { reason: problem.reason, detail: problem.detail, ...(problem.filter ? { filter: problem.filter } : {}) },
      PROBLEM_MESSAGES[problem.reason],
    );
  };
}

export function emptyReport(): WindowsReport {
  return { requests: 0, delivered: 0, outOfFilter: 0, crowdedSeconds: 0, complete: true, refusals: 0, problems: {}, withheld: 0 };
}

export function addReport(
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

/** The negentropy details of the pass so far plus one reconciled window's. */
export function addNegentropy(sum: NegentropyTotals | undefined, part: ReconcileReport): NegentropyTotals {
  return {
    sessions: (sum?.sessions ?? 0) + part.sessions,
    splits: (sum?.splits ?? 0) + part.splits,
    need: (sum?.need ?? 0) + part.need,
    gone: (sum?.gone ?? 0) + part.gone,
    missing: (sum?.missing ?? 0) + part.missing,
    reqFallbacks: (sum?.reqFallbacks ?? 0) + part.reqFallbacks,
  };
}
