/**
 * Completeness through NIP-77: reconcile a time window of a relay against what the archive already
 * holds from that relay, then fetch exactly the missing events by id. Unlike since/until pagination
 * this has no hole at crowded seconds, catches late or backdated events anywhere in the window, and
 * costs almost nothing when nothing is new.
 *
 * NIP-77 failures are not NIP-77 absence:
 *   - a window too large for one session (more local records than configured, a NEG-ERR such as
 *     strfry's `blocked: too many query results`, or a reply larger than we accept, which closes the
 *     connection: we reconnect) is split in two by time, down to one second;
 *   - a second the relay will not reconcile is paged with REQ within the relay's limits instead;
 *   - a NEG-ERR or CLOSED or NOTICE answering the first NEG-OPEN means "use REQ" for the pass.
 * Ids the relay lists but does not serve by id are withheld (remembered, never re-asked every pass,
 * never read as a page cap). Windows that stay unproven are owed, as with REQ.
 */
import type { NostrEvent } from '../nostr/event.js';
import { Negentropy, NegentropyStorage, type NegentropyItem } from '../nostr/negentropy.js';
import { RelayNetworkError, RelayProtocolError, RelayRefusedError, refusalPrefix } from './errors.js';
import type { PageResult } from './fetch-page.js';
import type { RelayFilterLimits } from './filter-limits.js';
import type { IncompleteReason, OwedWindow, PaginateReport, Problem } from './paginate.js';
import type { RelaySession } from './session.js';

/** The relay does not speak NIP-77 (NOTICE, CLOSED, NEG-ERR or silence on the first NEG-OPEN): use REQ pagination. */
export class NegentropyUnsupportedError extends RelayProtocolError {
  constructor(relayUrl: string, detail: string) {
    super(relayUrl, `negentropy not supported: ${detail}`);
    this.name = 'NegentropyUnsupportedError';
  }
}

export interface ReconcileWindowOptions {
  since: number;
  until: number;
  /** Our ids from this relay in [since, until], at most `limit` of them (more means: split). */
  localItems(since: number, until: number, limit: number): Promise<NegentropyItem[]>;
  maxLocalRecords: number;
  frameSizeLimit: number;
  timeoutMs: number;
  limits: RelayFilterLimits;
  /** Bound on negentropy sessions plus REQs for the window; reaching it is reported. */
  maxRequests: number;
  /** Wall-clock time (ms) after which the reconciliation stops where it is. */
  deadline?: number;
  now?: () => number;
  /** Ids this relay is known to withhold (not asked again). */
  withheld: ReadonlySet<string>;
  /** Pages a window with REQ (a second NIP-77 cannot reconcile), within the relay's limits. */
  pageWindow(since: number, until: number): Promise<PaginateReport>;
  onOwed?: (window: OwedWindow) => Promise<void>;
  onProblem?: (problem: Problem) => void;
  /** Records ids listed but not served. */
  onWithheld?: (ids: string[], reason: string) => Promise<void>;
  /** Everything newer than `second` in the window is done (windows are worked newest first). */
  onPosition?: (second: number) => Promise<void>;
  signal?: AbortSignal;
}

export interface ReconcileReport {
  sessions: number;
  /** Windows split because they were too large for one session. */
  splits: number;
  /** Ids the relay has and the archive lacked (for this relay), withheld ones excluded. */
  need: number;
  /** Ids the archive had from this relay that the relay no longer serves (deleted, expired or lost). */
  gone: number;
  requests: number;
  delivered: number;
  /** Needed ids the relay did not serve when asked by id (now recorded as withheld). */
  missing: number;
  /** Listed ids skipped because the relay is known to withhold them. */
  withheld: number;
  /** Seconds paged with REQ because NIP-77 could not reconcile them. */
  reqFallbacks: number;
  /** Events served that were not asked for (other ids, or outside the window). */
  outOfFilter: number;
  refusals: number;
  owed: number;
  problems: Partial<Record<IncompleteReason, number>>;
  complete: boolean;
  incompleteReason?: string;
  stopped?: 'request-bound' | 'time-budget';
}

export type OnReconciledEvents = (events: NostrEvent[]) => Promise<void>;

/**
 * Does the relay speak NIP-77? One session over the last minute before `until` (cheap for any relay
 * that does: a few ids at most), with a short timeout: relays that do not know NEG-OPEN answer with a
 * NOTICE, a CLOSED, a NEG-ERR, or nothing at all (nostr-relay-nestjs), and silence must not cost the
 * full negentropy timeout. Throws NegentropyUnsupportedError when it does not.
 */
export async function probeNegentropy(session: RelaySession, until: number, timeoutMs: number, frameSizeLimit: number): Promise<void> {
  // Inside the guard: an `auth-required:` or `rate-limited:` NEG-ERR is answered like any refusal.
  await session.guard.run(async () => {
    const reconciler = new Negentropy(NegentropyStorage.fromItems([]), { frameSizeLimit });
    const end = await session.connection.negentropy(
      { since: Math.max(0, until - 60), until },
      reconciler.initiate(),
      (reply) => reconciler.reconcile(reply).next,
      { timeoutMs },
    );
    switch (end.reason) {
      case 'done':
        return;
      case 'unsupported':
        throw new NegentropyUnsupportedError(session.url, `"${end.message.slice(0, 200)}" in answer to NEG-OPEN`);
      case 'timeout':
        if (end.firstReply) throw new NegentropyUnsupportedError(session.url, `no answer to NEG-OPEN within ${timeoutMs} ms`);
        return;
      case 'error': {
        const prefix = refusalPrefix(end.message);
        if (prefix === 'rate-limited' || prefix === 'auth-required') throw new RelayRefusedError(session.url, end.message);
        // A size refusal of one minute still means the relay speaks NIP-77.
        if (prefix === 'blocked') return;
        throw new NegentropyUnsupportedError(session.url, `NEG-ERR "${end.message.slice(0, 200)}" in answer to NEG-OPEN`);
      }
      case 'disconnected':
        throw new RelayNetworkError(session.url, `connection lost during the NIP-77 probe: ${end.message}`);
      case 'aborted':
        throw new RelayNetworkError(session.url, 'NIP-77 probe aborted');
    }
  });
}

type SessionOutcome = { need: string[]; gone: number } | { tooLarge: string } | { refused: string };

export async function reconcileWindow(
  session: RelaySession,
  options: ReconcileWindowOptions,
  onEvents: OnReconciledEvents,
): Promise<ReconcileReport> {
  const reconciler = new WindowReconciler(session, options, onEvents);
  await reconciler.run();
  return reconciler.report;
}

/** An id fetch under way: where its batch starts in the queue, the batch, and its settled answer. */
interface IdFetch {
  from: number;
  batch: string[];
  page: Promise<{ page: PageResult } | { error: unknown }>;
}

/** One round of id fetches: ids not served (to ask again), how many were, the largest page, the first stall. */
interface IdRound {
  missing: string[];
  delivered: number;
  largest: number;
  stalled: string | undefined;
}

class WindowReconciler {
  readonly report: ReconcileReport = {
    sessions: 0,
    splits: 0,
    need: 0,
    gone: 0,
    requests: 0,
    delivered: 0,
    missing: 0,
    withheld: 0,
    reqFallbacks: 0,
    outOfFilter: 0,
    refusals: 0,
    owed: 0,
    problems: {},
    complete: true,
  };
  private readonly now: () => number;
  /** Windows are split before asking when they hold more archived events than this (lowered when a reply was too large). */
  private maxLocalRecords: number;
  /**
   * Two id fetches in flight: unset until a first batch ends with EOSE, then true until a refusal,
   * an error or an answer without EOSE turns it off for the rest of the pass.
   */
  private pipelineIdFetches: boolean | undefined;
  constructor(
    private readonly session: RelaySession,
    private readonly options: ReconcileWindowOptions,
    private readonly onEvents: OnReconciledEvents,
  ) {
    this.now = options.now ?? Date.now;
    this.maxLocalRecords = options.maxLocalRecords;
  }

  async run(): Promise<void> {
    // Newest windows first, like pagination: pop takes the last pushed.
    const stack: [number, number][] = [[this.options.since, this.options.until]];
    while (stack.length > 0 && this.budgetLeft()) {
      const [since, until] = stack.pop() as [number, number];
      const local = await this.options.localItems(since, until, this.maxLocalRecords + 1);
      if (local.length > this.maxLocalRecords) {
        await this.split(stack, since, until, `more than ${this.maxLocalRecords} archived events in one second`);
        continue;
      }
      const outcome = await this.session.guard.run(() => this.runSession(since, until, local));
      if ('tooLarge' in outcome) {
        // Windows holding as much as this one are too large for this relay: split such windows up front.
        if (local.length > 1_000) this.maxLocalRecords = Math.min(this.maxLocalRecords, Math.floor(local.length / 2));
        await this.split(stack, since, until, outcome.tooLarge);
        continue;
      }
      if ('refused' in outcome) {
        // A later NEG-OPEN refused (the first one would have meant "unsupported"): this window by REQ.
        this.problem({ reason: 'unreconciled', detail: outcome.refused });
        await this.reqFallback(since, until);
        continue;
      }
      const need = outcome.need.filter((id) => !this.options.withheld.has(id));
      this.report.withheld += outcome.need.length - need.length;
      this.report.need += need.length;
      this.report.gone += outcome.gone;
      const finished = await this.fetchNeeded(need, since, until);
      if (!finished) return;
      await this.options.onPosition?.(since - 1);
    }
  }

  private budgetLeft(): boolean {
    if (this.report.stopped) return false;
    if (this.report.sessions + this.report.requests >= this.options.maxRequests) {
      this.stop('request-bound', `request bound reached (${this.options.maxRequests} negentropy sessions and REQs)`);
      return false;
    }
    if (this.options.deadline !== undefined && this.now() >= this.options.deadline) {
      this.stop('time-budget', "the pass's time budget ran out; the rest of the window waits for the next pass");
      return false;
    }
    return true;
  }

  private stop(reason: 'request-bound' | 'time-budget', detail: string): void {
    this.report.stopped = reason;
    this.report.complete = false;
    this.report.incompleteReason ??= detail;
    this.problem({ reason, detail });
  }

  private problem(problem: Problem): void {
    const seen = this.report.problems[problem.reason] ?? 0;
    this.report.problems[problem.reason] = seen + 1;
    if (seen === 0) this.options.onProblem?.(problem);
  }

  /** Splits [since, until] in two, or pages a single second with REQ when it cannot be split. */
  private async split(stack: [number, number][], since: number, until: number, why: string): Promise<void> {
    if (since < until) {
      const middle = Math.floor(since / 2 + until / 2);
      stack.push([since, middle], [middle + 1, until]);
      this.report.splits += 1;
      return;
    }
    this.problem({ reason: 'unreconciled', detail: `second ${since} cannot be reconciled (${why}); paged with REQ` });
    await this.reqFallback(since, until);
  }

  private async reqFallback(since: number, until: number): Promise<void> {
    this.report.reqFallbacks += 1;
    const paged = await this.options.pageWindow(since, until);
    this.report.requests += paged.requests;
    this.report.delivered += paged.delivered;
    this.report.outOfFilter += paged.outOfFilter;
    this.report.refusals += paged.refusals;
    this.report.owed += paged.owed;
    for (const [reason, count] of Object.entries(paged.problems))
      this.report.problems[reason as IncompleteReason] = (this.report.problems[reason as IncompleteReason] ?? 0) + count;
    if (!paged.complete) {
      this.report.complete = false;
      this.report.incompleteReason ??= paged.incompleteReason;
    }
    if (paged.stopped) this.report.stopped = paged.stopped;
    else await this.options.onPosition?.(since - 1);
  }

  private async owe(window: OwedWindow): Promise<void> {
    this.report.complete = false;
    this.report.incompleteReason ??= window.detail;
    this.report.owed += 1;
    this.problem({ reason: window.reason, detail: window.detail });
    await this.options.onOwed?.(window);
  }

  /**
   * Fetches the needed ids in batches within the relay's limits. Ids a batch did not return are asked
   * again in a further round only while rounds keep delivering some of them (a silent cap on `limit`);
   * once a round delivers none, the rest are withheld by the relay (strfry keeps DMs for their
   * recipients), recorded, and not asked again on every pass. A batch that ends without EOSE leaves
   * the window owed. Returns false when a budget stopped it.
   */
  private async fetchNeeded(need: string[], since: number, until: number): Promise<boolean> {
    const limits = this.options.limits;
    let queue = need;
    let batchSize = Math.max(1, Math.min(limits.values.maxIds, limits.values.pageLimit));
    let stalled: string | undefined;
    for (let round = 1; queue.length > 0; round += 1) {
      const result = await this.fetchIdRound(queue, batchSize, since, until);
      if (result === undefined) return false;
      stalled ??= result.stalled;
      if (result.missing.length === 0) break;
      // The first round always gets one more try; later rounds only while they still deliver.
      if (round > 1 && result.delivered === 0) {
        this.report.missing += result.missing.length;
        await this.options.onWithheld?.(result.missing, 'listed in NIP-77 reconciliation, not served by REQ ids');
        break;
      }
      queue = result.missing;
      batchSize = Math.max(1, result.largest);
    }
    if (stalled) await this.owe({ since, until, reason: 'stalled', detail: `ids fetch: ${stalled}` });
    return true;
  }

  /** One round over `queue`, batch after batch (two in flight once the relay has shown it can). Undefined when a budget stopped it. */
  private async fetchIdRound(queue: string[], batchSize: number, since: number, until: number): Promise<IdRound | undefined> {
    const round: IdRound = { missing: [], delivered: 0, largest: 0, stalled: undefined };
    let ahead: IdFetch | undefined;
    for (let position = 0; position < queue.length;) {
      if (!this.budgetLeft()) return undefined;
      const current = ahead?.from === position ? ahead : this.startIdFetch(queue, position, batchSize);
      ahead = undefined;
      // The next batch is asked for before this one is read, so the relay works while we do.
      const next = position + current.batch.length;
      if (this.pipelineIdFetches && next < queue.length && this.budgetLeft()) ahead = this.startIdFetch(queue, next, batchSize);
      const outcome = await current.page;
      if ('error' in outcome) {
        // The same batch is asked again (alone); the one asked ahead is dropped.
        await this.idFetchFailed(outcome.error, current, ahead);
        ahead = undefined;
        continue;
      }
      position = next;
      await this.takeIdPage(outcome.page, current.batch, since, until, round);
    }
    return round;
  }

  /** Asks for the batch of `queue` starting at `from` (the request is counted now, its answer read later). */
  private startIdFetch(queue: string[], from: number, batchSize: number): IdFetch {
    const limits = this.options.limits;
    const size = Math.max(1, Math.min(batchSize, limits.values.maxIds, limits.values.pageLimit));
    const batch = queue.slice(from, from + size);
    this.report.requests += 1;
    const page = this.session.fetchIds(batch).then(
      (result) => ({ page: result }),
      (error: unknown) => ({ error }),
    );
    return { from, batch, page };
  }

  /** A batch failed: returns when it is to be asked again, throws when the failure ends the window. */
  private async idFetchFailed(error: unknown, current: IdFetch, ahead: IdFetch | undefined): Promise<void> {
    // Read one at a time from now on: a NOTICE names no request, and can only be tied to ours
    // while it is the only one waiting; a relay may also allow one subscription only. The batch
    // asked ahead is dropped, and a refusal met with two requests out is first tried again alone.
    const twoOut = this.pipelineIdFetches === true;
    this.pipelineIdFetches = false;
    if (ahead) await ahead.page;
    if (twoOut && error instanceof RelayRefusedError) return;
    if (!(error instanceof RelayRefusedError)) throw error;
    this.report.refusals += 1;
    this.problem({ reason: 'refused', detail: error.relayMessage.slice(0, 300), filter: `{ids: ${current.batch.length}}` });
    if (this.options.limits.learnFromRefusal(error.refusal, error.relayMessage, [{ limit: current.batch.length, ids: current.batch }]))
      return;
    throw error;
  }

  /** Delivers what a batch served of what it asked (in the window); notes what it did not serve. */
  private async takeIdPage(page: PageResult, batch: string[], since: number, until: number, round: IdRound): Promise<void> {
    round.largest = Math.max(round.largest, page.received);
    const wanted = new Set(batch);
    const served: NostrEvent[] = [];
    for (const event of page.events) {
      if (wanted.delete(event.id) && event.created_at >= since && event.created_at <= until) served.push(event);
      else this.report.outOfFilter += 1;
    }
    round.delivered += served.length;
    this.report.delivered += served.length;
    if (page.end === 'eose' && this.pipelineIdFetches === undefined) this.pipelineIdFetches = true;
    if (page.end !== 'eose') this.pipelineIdFetches = false;
    if (served.length > 0) await this.onEvents(served);
    if (wanted.size === 0) return;
    if (page.end !== 'eose') round.stalled ??= page.endDetail ?? 'no EOSE';
    else round.missing.push(...wanted);
  }

  /**
   * One negentropy session over [since, until]. A reply larger than we accept closes the
   * connection: reconnect and split. A NEG-ERR `blocked:` about size splits; auth and rate limits go
   * to the request guard; any other answer instead of the first reply means "no NIP-77".
   */
  private async runSession(since: number, until: number, local: NegentropyItem[]): Promise<SessionOutcome> {
    const reconciler = new Negentropy(NegentropyStorage.fromItems(local), { frameSizeLimit: this.options.frameSizeLimit });
    const need: string[] = [];
    let gone = 0;
    this.report.sessions += 1;
    const first = this.report.sessions === 1;
    const url = this.session.url;
    const end = await this.session.connection.negentropy(
      { since, until },
      reconciler.initiate(),
      (reply) => {
        const round = reconciler.reconcile(reply);
        for (const id of round.need) need.push(id);
        gone += round.have.length;
        return round.next;
      },
      { timeoutMs: this.options.timeoutMs, ...(this.options.signal ? { signal: this.options.signal } : {}) },
    );
    switch (end.reason) {
      case 'done':
        return { need, gone };
      case 'unsupported':
        if (first) throw new NegentropyUnsupportedError(url, `"${end.message.slice(0, 200)}" in answer to NEG-OPEN`);
        return { refused: end.message.slice(0, 200) };
      case 'timeout':
        if (end.firstReply && first) throw new NegentropyUnsupportedError(url, `no answer to NEG-OPEN within ${this.options.timeoutMs} ms`);
        throw new RelayNetworkError(url, `negentropy reply not received within ${this.options.timeoutMs} ms`);
      case 'error': {
        const prefix = refusalPrefix(end.message);
        // strfry: "blocked: too many query results"; a ban is also `blocked:` but is not a size problem.
        if (prefix === 'blocked' && /too (many|large|big)|limit|exceed/i.test(end.message)) return { tooLarge: end.message.slice(0, 200) };
        if (prefix === 'rate-limited' || prefix === 'auth-required') throw new RelayRefusedError(url, end.message);
        if (first) throw new NegentropyUnsupportedError(url, `NEG-ERR "${end.message.slice(0, 200)}" in answer to NEG-OPEN`);
        return { refused: end.message.slice(0, 200) };
      }
      case 'disconnected':
        if (/max payload|1009|too big|too large/i.test(end.message)) {
          await this.session.reconnect('a negentropy reply was larger than relay.max_payload_bytes');
          return { tooLarge: `reply larger than relay.max_payload_bytes (${end.message.slice(0, 120)})` };
        }
        throw new RelayNetworkError(url, `connection lost during negentropy: ${end.message}`);
      case 'aborted':
        throw new RelayNetworkError(url, 'negentropy aborted');
    }
  }
}
