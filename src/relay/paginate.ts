/**
 * Complete pagination of one time window on one relay, newest first, whatever `limit` cap the relay
 * applies (silently, as small as 1), however many events share one second, and within the filter
 * limits the relay enforces (learned from its refusals as they come).
 *
 * What proves a scope (a time range, optionally restricted to kinds or authors) exhausted:
 *   - an EOSE after fewer events than the cap (the smaller of the limit asked, the relay's stated
 *     `max_limit`, and the largest page it ever answered); or
 *   - NIP-45 COUNT equal to what we hold, and only on a relay whose COUNT was first seen to agree with
 *     a scope proven by REQ (some relays count wrong, or count what they will not serve).
 * Nothing else does: a timeout, silence, a NOTICE, a CLOSED or a disconnect proves nothing. A scope
 * that cannot be proven is recorded as an owed window (`onOwed`, awaited before the position moves
 * below it) and the window is reported incomplete with the reason.
 *
 * The walk: each page asks `{since, until: u, limit}` (until inclusive). When the page's oldest event
 * is older than `u`, the next page starts at that oldest second (inclusive: the page may have been cut
 * inside it; duplicates are dropped by id). When a full page lies entirely in second `u`, that second
 * holds more than a page: it is drained by kinds (the kinds seen first, then every other kind in
 * lists the relay accepts, several filters per REQ), then by the authors seen for a kind that alone
 * fills a page; then `u` moves one second back. `u` strictly decreases or a split runs, so the walk
 * ends; the request bound and the time budget stop it anyway, reported.
 */
import type { NostrEvent } from '../nostr/event.js';
import { RelayRefusedError } from './errors.js';
import { describeFilters, filterOf, type CountEvents, type FetchPage, type PageRequest, type PageResult } from './fetch-page.js';
import type { RelayFilterLimits } from './filter-limits.js';

export type { PageRequest, PageResult, FetchPage, CountEvents } from './fetch-page.js';

/** Categories of "not proven", for metrics and logs (low cardinality). */
export type IncompleteReason =
  'refused' | 'stalled' | 'crowded' | 'ignores-time' | 'request-bound' | 'time-budget' | 'withheld' | 'unreconciled';

/** A window of the relay that is not proven archived. */
export interface OwedWindow {
  since: number;
  until: number;
  reason: IncompleteReason;
  detail: string;
}

export interface Problem {
  reason: IncompleteReason;
  detail: string;
  /** The shape of the request concerned (list lengths and bounds, never values). */
  filter?: string;
}

export interface PaginateOptions {
  since: number;
  until: number;
  /** Restrict to these kinds (the base filter). */
  kinds?: number[];
  limits: RelayFilterLimits;
  /** Bound on requests (REQ and COUNT) for this window; reaching it is reported, never silent. */
  maxRequests: number;
  /** Wall-clock time (ms) after which the walk stops where it is; the rest stays owed. */
  deadline?: number;
  /** Clock for the deadline (ms). */
  now?: () => number;
  countEvents?: CountEvents;
  /** Records a window that could not be proven; awaited before the position moves below it. */
  onOwed?: (window: OwedWindow) => Promise<void>;
  /** Called once per reason with the first occurrence, for logging. */
  onProblem?: (problem: Problem) => void;
  /**
   * Authors of events of `kind` created in `second` that the archive already holds (from any relay).
   * When one kind fills a page in one second, they are asked for by name besides the authors this
   * relay showed: what they posted here is then fetched even where nothing can prove the second
   * complete (authors seen nowhere cannot be named; without a trusted COUNT the second stays owed).
   */
  knownAuthors?: (second: number, kind: number) => Promise<string[]>;
  /**
   * Ids of archived events of `kind` by `authors` created in `second`. When one author alone fills
   * a page in one second, those ids are asked for by name: the relay's copies of events the archive
   * knows are then recorded (their provenance), though the second stays owed.
   */
  knownIds?: (second: number, kind: number, authors: string[]) => Promise<string[]>;
  /**
   * Positions passed to `onEvents` mean "everything newer in the window is done". False when the
   * window is walked several times (once per kinds chunk): positions are then left out.
   */
  trackPosition?: boolean;
}

/** What a walk of a relay's history counts, whichever way it asked (a pass's report adds its own fields). */
export interface WalkCounts {
  /** Requests sent: REQ pages and COUNTs (and negentropy sessions, in a pass that reconciled). */
  requests: number;
  /** Events delivered (deduplicated at page boundaries, inside the window and filter). */
  delivered: number;
  /** Events the relay sent that did not match the request (outside the window or filter). */
  outOfFilter: number;
  /** Seconds that overflowed one page and were split (REQ pagination). */
  crowdedSeconds: number;
  /** True only when everything walked was proven exhausted (for a pass: and the relay owes nothing). */
  complete: boolean;
  /** The first reason it is not complete, in words. */
  incompleteReason?: string;
  /** How often each kind of problem happened (refused, stalled, crowded, ignores-time, …). */
  problems: Partial<Record<IncompleteReason, number>>;
  /** Requests the relay refused (CLOSED, or a NOTICE answering them). */
  refusals: number;
  /** Set when the walk stopped early (request bound or time budget): the rest is not done, not owed, and waits for the next pass. */
  stopped?: 'request-bound' | 'time-budget';
}

export interface PaginateReport extends WalkCounts {
  /** Windows recorded as owed. */
  owed: number;
  /** The second the walk had reached when it stopped. */
  stoppedAt?: number;
  /** The relay's effective cap as observed (largest page it returned). */
  observedCap: number;
}

/** Receives each page's new events; the caller stores them before the next page is asked. */
export type OnEvents = (events: NostrEvent[], position: { until: number } | undefined) => Promise<void>;

export const ALL_KINDS_MAX = 65_535;

type Asked =
  | { type: 'page'; page: PageResult; inFilter: NostrEvent[]; fresh: NostrEvent[]; cap: number }
  /** The limits changed (a refusal taught us, or a page was too heavy): build the request again. */
  | { type: 'replan' }
  | { type: 'stop' };

function matchesRequest(event: NostrEvent, request: PageRequest): boolean {
  if (event.created_at < request.since || event.created_at > request.until) return false;
  if (request.kinds && !request.kinds.includes(event.kind)) return false;
  if (request.authors && !request.authors.includes(event.pubkey)) return false;
  if (request.ids && !request.ids.includes(event.id)) return false;
  return true;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += Math.max(1, size)) chunks.push(items.slice(start, start + Math.max(1, size)));
  return chunks;
}

/** About the bytes of a REQ whose filters hold these kinds lists (since/until/limit and framing included). */
function requestBytes(lists: readonly number[][]): number {
  let bytes = 40;
  for (const list of lists) {
    bytes += 70;
    for (const kind of list) bytes += String(kind).length + 1;
  }
  return bytes;
}

/** Groups kinds lists into REQs of at most `maxFilters` filters and about `maxBytes` bytes. */
function batchBySize(lists: number[][], maxFilters: number, maxBytes: number): number[][][] {
  const batches: number[][][] = [];
  let batch: number[][] = [];
  for (const list of lists) {
    if (batch.length > 0 && (batch.length >= maxFilters || requestBytes([...batch, list]) > maxBytes)) {
      batches.push(batch);
      batch = [];
    }
    batch.push(list);
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

function allKinds(only?: number[]): number[] {
  return only ? [...only] : Array.from({ length: ALL_KINDS_MAX + 1 }, (_, kind) => kind);
}

export async function paginateWindow(fetchPage: FetchPage, options: PaginateOptions, onEvents: OnEvents): Promise<PaginateReport> {
  const pager = new WindowPager(fetchPage, options, onEvents);
  await pager.run();
  return pager.report;
}

class WindowPager {
  readonly report: PaginateReport = {
    requests: 0,
    delivered: 0,
    outOfFilter: 0,
    crowdedSeconds: 0,
    complete: true,
    problems: {},
    refusals: 0,
    owed: 0,
    observedCap: 0,
  };
  private readonly limits: RelayFilterLimits;
  private readonly now: () => number;
  /** Ids already delivered at the current boundary second (pages overlap there by design). */
  private boundarySecond = Number.POSITIVE_INFINITY;
  private boundaryEvents = new Map<string, NostrEvent>();
  /** A smaller page limit adopted for this walk when pages were too heavy (bytes). */
  private byteLimit = Number.POSITIVE_INFINITY;
  /** An owed window not yet recorded (consecutive ones merge); recorded before the position passes it. */
  private pendingOwed: OwedWindow | undefined;
  /** A scope proven by REQ with its exact number of events, to test the relay's COUNT against. */
  private countReference: { request: PageRequest; events: number } | undefined;
  private trackPosition: boolean;

  constructor(
    private readonly fetchPage: FetchPage,
    private readonly options: PaginateOptions,
    private readonly onEvents: OnEvents,
  ) {
    this.limits = options.limits;
    this.now = options.now ?? Date.now;
    this.trackPosition = options.trackPosition ?? true;
  }

  async run(): Promise<void> {
    // Work items: a kinds scope (undefined: every kind) walked from `until` down to `since`.
    const work: { kinds: number[] | undefined; until: number }[] = [];
    const scoped = this.options.kinds !== undefined || this.limits.values.requiresKinds;
    if (scoped) {
      const kinds = allKinds(this.options.kinds);
      const chunks = chunk(kinds, this.limits.values.maxKinds);
      if (chunks.length > 1) this.trackPosition = false;
      for (const part of chunks.reverse()) work.push({ kinds: part, until: this.options.until });
    } else work.push({ kinds: undefined, until: this.options.until });
    while (work.length > 0 && this.report.stopped === undefined) {
      const item = work.pop() as (typeof work)[number];
      const result = await this.timeline(item.kinds, item.until);
      if (result.replanAt === undefined) continue;
      // The relay refused this scope's filter shape: walk the rest of it in scopes it accepts.
      const kinds = item.kinds ?? (this.limits.values.requiresKinds ? allKinds() : undefined);
      if (kinds === undefined) {
        work.push({ kinds: undefined, until: result.replanAt });
        continue;
      }
      const chunks = chunk(kinds, this.limits.values.maxKinds);
      if (chunks.length > 1 || item.kinds === undefined) this.trackPosition = false;
      for (const part of chunks.reverse()) work.push({ kinds: part, until: result.replanAt });
    }
    await this.flushOwed();
  }

  private pageLimit(): number {
    return Math.max(1, Math.min(this.limits.values.pageLimit, this.byteLimit));
  }

  /** Walks [since, until] for one kinds scope. Returns where to go on when the scope must be re-planned. */
  private async timeline(kinds: number[] | undefined, from: number): Promise<{ replanAt?: number }> {
    const since = this.options.since;
    let until = from;
    // Each walk starts from the top: the boundary of an earlier walk (another kinds scope) is no dedup key here.
    this.boundarySecond = Number.POSITIVE_INFINITY;
    this.boundaryEvents = new Map();
    while (until >= since) {
      const request: PageRequest = { since, until, limit: this.pageLimit(), ...(kinds ? { kinds } : {}) };
      const asked = await this.ask([request]);
      if (asked.type === 'stop') return {};
      if (asked.type === 'replan') {
        // Only a change of the list shape needs a new scope; a smaller limit is simply asked again.
        if (kinds === undefined ? this.limits.values.requiresKinds : kinds.length > this.limits.values.maxKinds) return { replanAt: until };
        continue;
      }
      const { page, inFilter, fresh, cap } = asked;
      if (inFilter.length === 0) {
        await this.endOnEmptyPage(request, page, cap);
        return {};
      }
      const oldest = inFilter.reduce((min, event) => Math.min(min, event.created_at), Number.POSITIVE_INFINITY);
      if (page.end !== 'eose') await this.owe({ since: oldest, until, reason: 'stalled', detail: page.endDetail ?? 'no EOSE' });
      else if (page.received < cap) this.noteProven(request, new Set(inFilter.map((event) => event.id)).size);
      await this.deliver(fresh, oldest);
      if (oldest < until) {
        until = oldest;
        continue;
      }
      // Every event of the page is in second `until`.
      if (page.end === 'eose' && !(await this.exhausted({ ...request, since: until }, page.received, cap))) {
        const outcome = await this.drainSecond(until, kinds);
        if (outcome === 'stop') return {};
      }
      until -= 1;
    }
    return {};
  }

  /** A page with nothing we asked for ends the scope's walk: proven, owed as stalled, or owed as ignoring time. */
  private async endOnEmptyPage(request: PageRequest, page: PageResult, cap: number): Promise<void> {
    const { since, until } = request;
    // A full page of nothing we asked for: the relay answers outside the window (ignores
    // since/until); a few strays in a short page are just strays (counted as out of filter).
    if (page.end === 'eose' && page.events.length > 0 && page.received >= cap) {
      await this.owe({
        since,
        until,
        reason: 'ignores-time',
        detail: `the relay answers ${describeFilters([filterOf(request)])} with events outside it (it ignores since/until)`,
      });
    } else if (page.end !== 'eose') {
      await this.owe({ since, until, reason: 'stalled', detail: page.endDetail ?? 'no EOSE' });
    } else if (page.received < cap) this.noteProven(request, 0);
  }

  /**
   * Sends one REQ (one or several filters) within the budgets. A refusal that names a size teaches
   * the limits and asks for a re-plan; any other refusal is tried once more (a NOTICE may have been
   * about something else), then given to the caller.
   */
  private async ask(filters: PageRequest[]): Promise<Asked> {
    let retried = false;
    for (;;) {
      if (this.report.stopped) return { type: 'stop' };
      if (this.report.requests >= this.options.maxRequests)
        return this.stop('request-bound', `request bound reached (${this.options.maxRequests} requests)`);
      if (this.options.deadline !== undefined && this.now() >= this.options.deadline)
        return this.stop('time-budget', "the pass's time budget ran out; the rest of the window waits for the next pass");
      this.report.requests += 1;
      let page: PageResult;
      try {
        page = await this.fetchPage(filters);
      } catch (error) {
        if (!(error instanceof RelayRefusedError)) throw error;
        this.report.refusals += 1;
        this.problem({ reason: 'refused', detail: error.relayMessage.slice(0, 300), filter: describeFilters(filters.map(filterOf)) });
        if (this.limits.learnFromRefusal(error.refusal, error.relayMessage, filters)) return { type: 'replan' };
        if (retried) throw error;
        retried = true;
        continue;
      }
      this.report.observedCap = Math.max(this.report.observedCap, page.received);
      const asked = Math.max(...filters.map((filter) => filter.limit));
      if (page.end === 'cut' && page.received < asked) {
        // Too heavy to hold as one page: keep what came, ask for fewer events per page from now on.
        this.byteLimit = Math.max(1, page.received);
        const within = page.events.filter((event) => filters.some((filter) => matchesRequest(event, filter)));
        await this.deliver(this.freshOf(within), Math.max(...filters.map((filter) => filter.until)));
        return { type: 'replan' };
      }
      // Cut at the byte budget after as many events as asked: that is the whole answer (capped).
      if (page.end === 'cut') page = { ...page, end: 'eose' };
      // A page is measured against the smaller of the limit asked (capped by the relay's stated
      // max_limit) and the largest page the relay answered before: a page that large may have been
      // cut by a silent cap. The very first page can therefore prove nothing by its size alone.
      // Only a one-filter page says what one filter may hold (several filters may each fill a page).
      const largestBefore = this.limits.values.largestPage;
      if (page.end === 'eose' && filters.length === 1) this.limits.notePage(page.received);
      const cap = Math.min(this.limits.capFor(asked), largestBefore);
      const inFilter = this.inFilterOf(page.events, filters);
      return { type: 'page', page, inFilter, fresh: this.freshOf(inFilter), cap };
    }
  }

  /** The events that match one of the filters; the others are counted as out of filter. */
  private inFilterOf(events: NostrEvent[], filters: PageRequest[]): NostrEvent[] {
    const inFilter: NostrEvent[] = [];
    for (const event of events) {
      if (filters.some((filter) => matchesRequest(event, filter))) inFilter.push(event);
      else this.report.outOfFilter += 1;
    }
    return inFilter;
  }

  /** Drops duplicates within the page and events already delivered at the boundary second. */
  private freshOf(events: NostrEvent[]): NostrEvent[] {
    const fresh: NostrEvent[] = [];
    const seen = new Set<string>();
    for (const event of events) {
      if (seen.has(event.id)) continue;
      seen.add(event.id);
      if (event.created_at === this.boundarySecond && this.boundaryEvents.has(event.id)) continue;
      fresh.push(event);
    }
    return fresh;
  }

  private async deliver(events: NostrEvent[], position: number): Promise<void> {
    if (this.pendingOwed && position < this.pendingOwed.since) await this.flushOwed();
    if (events.length === 0) return;
    for (const event of events) {
      if (event.created_at !== this.boundarySecond) {
        if (event.created_at < this.boundarySecond) {
          this.boundarySecond = event.created_at;
          this.boundaryEvents = new Map();
        } else continue; // newer than the boundary: already covered by an earlier page
      }
      this.boundaryEvents.set(event.id, event);
    }
    this.report.delivered += events.length;
    await this.onEvents(events, this.trackPosition ? { until: position } : undefined);
  }

  /**
   * True when the scope of `request` has nothing left to fetch: the page was below the cap, or the
   * relay's COUNT (trusted) equals the events of that scope we hold.
   */
  private async exhausted(request: PageRequest, received: number, cap: number): Promise<boolean> {
    if (received < cap) return true;
    return this.countProves(request);
  }

  private heldIn(request: PageRequest): number {
    let held = 0;
    for (const event of this.boundaryEvents.values()) if (matchesRequest(event, request)) held += 1;
    return held;
  }

  private noteProven(request: PageRequest, events: number): void {
    if (events > 0 && (this.countReference === undefined || events >= this.countReference.events))
      this.countReference = { request, events };
  }

  /** COUNT as proof, only where this relay's COUNT agreed with a scope REQ proved (tested once). */
  private async countProves(request: PageRequest): Promise<boolean> {
    const count = this.options.countEvents;
    if (!count || this.limits.values.count === 'disagrees' || this.limits.values.count === 'unanswered') return false;
    if (this.limits.values.count === undefined) {
      const reference = this.countReference;
      if (!reference || !(await this.budgetLeft())) return false;
      this.report.requests += 1;
      const counted = await count(reference.request);
      if (counted === undefined) {
        this.limits.setCount('unanswered');
        return false;
      }
      this.limits.setCount(counted === reference.events ? 'agrees' : 'disagrees');
      if (counted !== reference.events) {
        this.problem({
          reason: 'crowded',
          detail:
            `the relay's COUNT (${counted}) disagrees with its REQ answer (${reference.events} events) ` +
            `for ${describeFilters([filterOf(reference.request)])}; COUNT is not used as proof`,
        });
        return false;
      }
    }
    if (!(await this.budgetLeft())) return false;
    this.report.requests += 1;
    const total = await count(request);
    if (total === undefined) return false;
    const held = this.heldIn(request);
    if (held > total) {
      this.limits.setCount('disagrees');
      return false;
    }
    return held === total;
  }

  private async budgetLeft(): Promise<boolean> {
    if (this.report.requests >= this.options.maxRequests) return false;
    return this.options.deadline === undefined || this.now() < this.options.deadline;
  }

  /**
   * Drains one crowded second: the kinds seen in it (grouped so each group should fit a page), then
   * every other kind in lists the relay accepts (several filters per REQ), then, for a kind that
   * alone fills a page, the authors seen. What no split can prove is owed.
   */
  private async drainSecond(second: number, kinds: number[] | undefined): Promise<'done' | 'stop'> {
    this.report.crowdedSeconds += 1;
    const seenCounts = this.kindCountsIn(second, kinds);
    const groups = this.groupSeenKinds(seenCounts);
    const others = allKinds(kinds).filter((kind) => !seenCounts.has(kind));
    // A stack of REQs, each a list of kinds lists (one filter per list); popped last-in first.
    const stack: number[][][] = [];
    this.pushKindLists(stack, others);
    for (const seen of groups.reverse()) stack.push([seen]);
    while (stack.length > 0) {
      const lists = stack.pop() as number[][];
      if (!this.fitsLimits(lists)) {
        this.pushKindLists(stack, lists.flat());
        continue;
      }
      if ((await this.drainKinds(second, lists, stack)) === 'stop') return 'stop';
    }
    return 'done';
  }

  /** How many events of each kind (within `kinds`) the relay showed in `second`. */
  private kindCountsIn(second: number, kinds: number[] | undefined): Map<number, number> {
    const seenCounts = new Map<number, number>();
    for (const event of this.boundaryEvents.values()) {
      if (event.created_at === second && (!kinds || kinds.includes(event.kind)))
        seenCounts.set(event.kind, (seenCounts.get(event.kind) ?? 0) + 1);
    }
    return seenCounts;
  }

  /** The kinds seen, fewest events first, in groups the relay accepts in one filter. */
  private groupSeenKinds(seenCounts: Map<number, number>): number[][] {
    // Groups sized to fill about half of what the relay really returns per page.
    const effectiveCap = Math.min(this.pageLimit(), this.limits.values.largestPage || this.pageLimit());
    const half = Math.max(1, Math.floor(effectiveCap / 2));
    const groups: number[][] = [];
    let group: number[] = [];
    let groupCount = 0;
    for (const [kind, count] of [...seenCounts.entries()].sort((a, b) => a[1] - b[1])) {
      if (group.length > 0 && (groupCount + count > half || group.length >= this.limits.values.maxKinds)) {
        groups.push(group);
        group = [];
        groupCount = 0;
      }
      group.push(kind);
      groupCount += count;
    }
    if (group.length > 0) groups.push(group);
    return groups;
  }

  /** Pushes `kinds` as REQs of kinds lists within the relay's limits (the first REQ on top). */
  private pushKindLists(stack: number[][][], kinds: number[]): void {
    const filters = chunk(kinds, this.limits.values.maxKinds);
    for (const batch of batchBySize(filters, this.limits.values.maxFilters, this.limits.values.maxRequestBytes).reverse())
      stack.push(batch);
  }

  /** False when the limits learned since this REQ was planned no longer admit it. */
  private fitsLimits(lists: number[][]): boolean {
    return !(
      lists.some((list) => list.length > this.limits.values.maxKinds) ||
      lists.length > this.limits.values.maxFilters ||
      (lists.length > 1 && requestBytes(lists) > this.limits.values.maxRequestBytes)
    );
  }

  /**
   * One REQ of the crowded second by kinds lists. A full answer is split: several filters one by one,
   * one list in halves, a single kind by authors (unless a trusted COUNT proves it).
   */
  private async drainKinds(second: number, lists: number[][], stack: number[][][]): Promise<'done' | 'stop'> {
    const filters = lists.map((list): PageRequest => ({ since: second, until: second, limit: this.pageLimit(), kinds: list }));
    const asked = await this.ask(filters);
    if (asked.type === 'stop') return 'stop';
    if (asked.type === 'replan') {
      stack.push(lists);
      return 'done';
    }
    const { page, inFilter, fresh, cap } = asked;
    await this.deliver(fresh, second);
    if (page.end !== 'eose') {
      await this.owe({ since: second, until: second, reason: 'stalled', detail: page.endDetail ?? 'no EOSE' });
      return 'done';
    }
    if (page.received < cap) {
      if (filters.length === 1) this.noteProven(filters[0] as PageRequest, new Set(inFilter.map((event) => event.id)).size);
      return 'done';
    }
    if (lists.length > 1) {
      for (const list of [...lists].reverse()) stack.push([list]);
      return 'done';
    }
    const list = lists[0] as number[];
    if (filters.length === 1 && (await this.countProves(filters[0] as PageRequest))) return 'done';
    if (list.length > 1) {
      const middle = Math.ceil(list.length / 2);
      stack.push([list.slice(middle)], [list.slice(0, middle)]);
      return 'done';
    }
    return this.drainKindByAuthors(second, list[0] as number);
  }

  /**
   * One kind fills a page in one second: ask by the authors seen in that second (of any kind: they
   * are the likeliest to have posted this one too) and the authors the archive holds events of that
   * kind and second from, in chunks the relay accepts.
   */
  private async drainKindByAuthors(second: number, kind: number): Promise<'done' | 'stop'> {
    const shown = [...this.boundaryEvents.values()].filter((event) => event.created_at === second).map((event) => event.pubkey);
    const archived = this.options.knownAuthors ? await this.options.knownAuthors(second, kind) : [];
    const authors = [...new Set([...shown, ...archived])];
    const stack = chunk(authors, this.limits.values.maxAuthors).reverse();
    let overflowing = 0;
    const overflowingAuthors: string[] = [];
    while (stack.length > 0) {
      const list = stack.pop() as string[];
      if (list.length > this.limits.values.maxAuthors) {
        stack.push(...chunk(list, this.limits.values.maxAuthors).reverse());
        continue;
      }
      const request: PageRequest = { since: second, until: second, limit: this.pageLimit(), kinds: [kind], authors: list };
      const asked = await this.ask([request]);
      if (asked.type === 'stop') return 'stop';
      if (asked.type === 'replan') {
        stack.push(list);
        continue;
      }
      const { page, inFilter, fresh, cap } = asked;
      await this.deliver(fresh, second);
      if (page.end !== 'eose') {
        overflowing += 1;
        continue;
      }
      if (page.received < cap) {
        this.noteProven(request, new Set(inFilter.map((event) => event.id)).size);
        continue;
      }
      if (await this.countProves(request)) continue;
      if (list.length > 1) {
        const middle = Math.ceil(list.length / 2);
        stack.push(list.slice(middle), list.slice(0, middle));
      } else {
        overflowing += 1;
        overflowingAuthors.push(list[0] as string);
      }
    }
    if (overflowingAuthors.length > 0 && (await this.fetchKnownIds(second, kind, overflowingAuthors)) === 'stop') return 'stop';
    await this.proveKindOrOwe(second, kind, overflowing);
    return 'done';
  }

  /** After the authors: the kind's second is proven only by a trusted COUNT, and only when no author overflowed; else it is owed. */
  private async proveKindOrOwe(second: number, kind: number, overflowing: number): Promise<void> {
    // Authors never seen in this second cannot be named in a filter: only a trusted COUNT can tell.
    const whole: PageRequest = { since: second, until: second, limit: this.pageLimit(), kinds: [kind] };
    if (overflowing === 0 && (await this.countProves(whole))) return;
    await this.owe({
      since: second,
      until: second,
      reason: 'crowded',
      detail:
        overflowing > 0
          ? `second ${second}: kind ${kind} of one author holds more events than the relay serves in one page`
          : `second ${second}: kind ${kind} fills the relay's page cap; ` +
            'authors not seen cannot be enumerated without a COUNT that agrees with REQ',
    });
  }

  /** The archive's events of `authors` in that second and kind, asked for by id (what this relay holds of them is delivered). */
  private async fetchKnownIds(second: number, kind: number, authors: string[]): Promise<'done' | 'stop'> {
    if (!this.options.knownIds) return 'done';
    const ids = (await this.options.knownIds(second, kind, authors)).filter((id) => !this.boundaryEvents.has(id));
    const stack = chunk(ids, Math.max(1, Math.min(this.limits.values.maxIds, this.pageLimit()))).reverse();
    while (stack.length > 0) {
      const list = stack.pop() as string[];
      if (list.length > this.limits.values.maxIds) {
        stack.push(...chunk(list, Math.max(1, this.limits.values.maxIds)).reverse());
        continue;
      }
      const asked = await this.ask([{ since: second, until: second, limit: list.length, kinds: [kind], ids: list }]);
      if (asked.type === 'stop') return 'stop';
      if (asked.type === 'replan') {
        stack.push(list);
        continue;
      }
      await this.deliver(asked.fresh, second);
      // A full page may have been cut at the relay's cap: ask for the rest in halves.
      if (asked.page.received >= asked.cap && list.length > 1) {
        const missing = list.filter((id) => !this.boundaryEvents.has(id));
        const middle = Math.ceil(missing.length / 2);
        if (missing.length > 0) stack.push(missing.slice(middle), missing.slice(0, middle));
      }
    }
    return 'done';
  }

  private stop(reason: 'request-bound' | 'time-budget', detail: string): Asked {
    this.report.stopped = reason;
    this.report.stoppedAt = Math.min(this.boundarySecond, this.options.until);
    this.report.complete = false;
    this.report.incompleteReason ??= detail;
    this.problem({ reason, detail });
    return { type: 'stop' };
  }

  private problem(problem: Problem): void {
    const seen = this.report.problems[problem.reason] ?? 0;
    this.report.problems[problem.reason] = seen + 1;
    if (seen === 0) this.options.onProblem?.(problem);
  }

  /** Records (merging with the previous one when adjacent) a window that could not be proven. */
  private async owe(window: OwedWindow): Promise<void> {
    this.report.complete = false;
    this.report.incompleteReason ??= window.detail;
    this.problem({ reason: window.reason, detail: window.detail });
    const pending = this.pendingOwed;
    if (pending && window.until >= pending.since - 1 && window.since <= pending.until + 1) {
      pending.since = Math.min(pending.since, window.since);
      pending.until = Math.max(pending.until, window.until);
      return;
    }
    await this.flushOwed();
    this.pendingOwed = { ...window };
  }

  private async flushOwed(): Promise<void> {
    const pending = this.pendingOwed;
    if (!pending) return;
    this.pendingOwed = undefined;
    this.report.owed += 1;
    await this.options.onOwed?.(pending);
  }
}
