/**
 * What a relay pass is given and what it reports, shared by the pass's steps (relay-sync.ts re-exports
 * them for its callers).
 */
import type { Config } from '../../config/schema.js';
import type { Database } from '../../db/database.js';
import type { ReconcileReport } from '../../relay/negentropy-window.js';
import type { WalkCounts } from '../../relay/paginate.js';
import type { VerifyPool } from '../../verify/pool.js';
import type { Logger } from '../../observability/logger.js';
import type { ByteBudget } from './byte-budget.js';
import type { StoreTotals } from './store-batch.js';

/** The pass was stopped by a signal between pages; what was committed stays. */
export class PassAbortedError extends Error {
  constructor() {
    super('sync pass stopped');
    this.name = 'PassAbortedError';
  }
}

/** What a pass reports, whichever method it used: the walk's counts, then what the relay owes after it. */
export interface PassReport extends WalkCounts {
  /** Owed windows of this relay after the pass, and the seconds of history they cover. */
  owed: { windows: number; seconds: number };
  /** Ids the relay lists (NIP-77) but does not serve us: skipped as known, or found this pass. */
  withheld: number;
  elapsedMs: number;
}

/** What the pass's windows add up to, before the relay's owed windows are counted. */
export type WindowsReport = Omit<PassReport, 'owed' | 'elapsedMs'>;

/** Negentropy details: ids needed, ids the relay no longer serves, ids it did not deliver. */
export type NegentropyTotals = Pick<ReconcileReport, 'sessions' | 'splits' | 'need' | 'gone' | 'missing' | 'reqFallbacks'>;

export interface RelaySyncResult {
  relayUrl: string;
  method: 'negentropy' | 'req';
  /** A pass over the whole history (first pass, scheduled full pass, NIP-77, or --since 0). */
  full: boolean;
  window: { since: number; until: number };
  report: PassReport;
  /** Negentropy details: ids needed, ids the relay no longer serves, ids it did not deliver. */
  negentropy?: NegentropyTotals;
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

/** The span of history a pass covers, and whether it reaches back to the oldest second wanted. */
export interface PassWindow {
  since: number;
  until: number;
  full: boolean;
}
