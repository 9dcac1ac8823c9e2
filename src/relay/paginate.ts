/**
 * Complete pagination of one time window on one relay, newest first, whatever `limit` cap the relay
 * applies (it may be silent and as small as 1) and however many events share one second.
 *
 * Each page asks `{since, until: u, limit}` with `u` inclusive. When the page's oldest event is older
 * than `u`, the next page starts at that oldest second (inclusive, because the page may have been
 * cut inside it; duplicates are dropped by id). When every event of a full page shares the second
 * `u`, that second holds more events than one page: it is drained by splitting the filter by kind
 * ranges (and, for one overflowing kind, by every author seen in that second), then `u` moves one
 * second back. Whether a capped-looking scope is really exhausted is decided by NIP-45 COUNT when the
 * relay answers it (the count equals what we hold), otherwise conservatively by splitting.
 * `u` strictly decreases or a split runs, so the loop ends; `maxPages` bounds it anyway and is reported.
 */
import type { NostrEvent } from '../nostr/event.js';

export interface PageRequest {
  since: number;
  until: number;
  limit: number;
  kinds?: number[];
  authors?: string[];
}

export interface PageResult {
  /** Shape-valid events as the relay sent them (not yet checked against the filter). */
  events: NostrEvent[];
  /** How many EVENT messages the relay sent for this page (including invalid ones). */
  received: number;
}

export interface PaginateOptions {
  since: number;
  until: number;
  /** Limit asked per page (the relay may silently cap it lower). */
  pageLimit: number;
  /** The relay's cap when known (NIP-11 `limitation.max_limit`). */
  knownMaxLimit?: number;
  /** Restrict to these kinds (the base filter). */
  kinds?: number[];
  /** Bound on pages for this window; hitting it is reported, never silent. */
  maxPages: number;
  /** Largest kinds list sent in one filter when splitting a crowded second. */
  maxKindsPerFilter: number;
}

export interface PaginateReport {
  pages: number;
  /** Events delivered to `onEvents` (deduplicated, inside the window and filter). */
  delivered: number;
  /** Events the relay sent that did not match the request (outside time window or filter). */
  outOfFilter: number;
  /** Seconds that overflowed one page and were split. */
  crowdedSeconds: number;
  /** True when every event the relay would serve in the window was reached. */
  complete: boolean;
  /** Why not complete (page bound hit, a crowded second that could not be split further, …). */
  incompleteReason?: string;
  /** The relay's effective cap as observed (largest page it returned). */
  observedCap: number;
}

export type FetchPage = (request: PageRequest) => Promise<PageResult>;
/** NIP-45 COUNT of the request's scope (its limit ignored), or undefined when the relay does not answer. */
export type CountEvents = (request: PageRequest) => Promise<number | undefined>;
/** Receives each page's new events, oldest-last; the caller stores them before the next page is asked. */
export type OnEvents = (events: NostrEvent[], position: { until: number }) => Promise<void>;

const ALL_KINDS: [number, number] = [0, 65535];

function matches(event: NostrEvent, request: PageRequest): boolean {
  if (event.created_at < request.since || event.created_at > request.until) return false;
  if (request.kinds && !request.kinds.includes(event.kind)) return false;
  if (request.authors && !request.authors.includes(event.pubkey)) return false;
  return true;
}

function kindRange([low, high]: [number, number], only?: number[]): number[] {
  if (only) return only.filter((kind) => kind >= low && kind <= high);
  return Array.from({ length: high - low + 1 }, (_, index) => low + index);
}

export async function paginateWindow(fetchPage: FetchPage, options: PaginateOptions, onEvents: OnEvents, countEvents?: CountEvents): Promise<PaginateReport> {
  const report: PaginateReport = { pages: 0, delivered: 0, outOfFilter: 0, crowdedSeconds: 0, complete: true, observedCap: 0 };
  // Ids already delivered at the current boundary second (pages overlap there by design).
  let boundarySecond = Number.POSITIVE_INFINITY;
  let boundaryEvents = new Map<string, NostrEvent>();
  let countUnsupported = countEvents === undefined;
  let pageBoundHit = false;

  const ask = async (request: PageRequest): Promise<{ fresh: NostrEvent[]; inFilter: NostrEvent[]; received: number } | undefined> => {
    if (report.pages >= options.maxPages) {
      pageBoundHit = true;
      report.complete = false;
      report.incompleteReason ??= `page bound reached (${options.maxPages} pages)`;
      return undefined;
    }
    report.pages += 1;
    const page = await fetchPage(request);
    report.observedCap = Math.max(report.observedCap, page.received);
    const inFilter: NostrEvent[] = [];
    for (const event of page.events) {
      if (matches(event, request)) inFilter.push(event);
      else report.outOfFilter += 1;
    }
    const fresh: NostrEvent[] = [];
    const seenInPage = new Set<string>();
    for (const event of inFilter) {
      if (seenInPage.has(event.id)) continue;
      seenInPage.add(event.id);
      if (event.created_at === boundarySecond && boundaryEvents.has(event.id)) continue;
      fresh.push(event);
    }
    return { fresh, inFilter, received: page.received };
  };

  const deliver = async (events: NostrEvent[], until: number) => {
    if (events.length === 0) return;
    for (const event of events) {
      if (event.created_at !== boundarySecond) {
        if (event.created_at < boundarySecond) {
          boundarySecond = event.created_at;
          boundaryEvents = new Map();
        } else continue; // newer than the boundary: already covered by an earlier page
      }
      boundaryEvents.set(event.id, event);
    }
    report.delivered += events.length;
    await onEvents(events, { until });
  };

  /** A page is possibly cut by the relay's cap when it is as large as anything the relay ever returned. */
  const possiblyCapped = (received: number, asked: number) => {
    const cap = Math.min(asked, options.knownMaxLimit ?? Number.POSITIVE_INFINITY);
    return received >= cap || received >= report.observedCap;
  };

  /**
   * True when the scope of `request` (one second) has nothing left to fetch: the page was not full,
   * or the relay's COUNT equals the events of that scope we already hold.
   */
  const exhausted = async (request: PageRequest, received: number): Promise<boolean> => {
    if (!possiblyCapped(received, request.limit)) return true;
    if (countUnsupported || !countEvents) return false;
    if (report.pages >= options.maxPages) return false;
    report.pages += 1;
    const total = await countEvents(request);
    if (total === undefined) {
      countUnsupported = true;
      return false;
    }
    let held = 0;
    for (const event of boundaryEvents.values()) if (matches(event, request)) held += 1;
    return held >= total;
  };

  /** Drains one crowded second by kind ranges, then by authors for a single crowded kind. */
  const drainSecond = async (second: number): Promise<void> => {
    report.crowdedSeconds += 1;
    const stack: [number, number][] = [ALL_KINDS];
    while (stack.length > 0) {
      const range = stack.pop() as [number, number];
      const kinds = kindRange(range, options.kinds);
      if (kinds.length === 0) continue;
      if (kinds.length > options.maxKindsPerFilter) {
        const middle = Math.floor((range[0] + range[1]) / 2);
        stack.push([middle + 1, range[1]], [range[0], middle]);
        continue;
      }
      const request: PageRequest = { since: second, until: second, limit: options.pageLimit, kinds };
      const page = await ask(request);
      if (!page) return;
      await deliver(page.fresh, second);
      if (await exhausted(request, page.received)) continue;
      if (range[0] < range[1]) {
        const middle = Math.floor((range[0] + range[1]) / 2);
        stack.push([middle + 1, range[1]], [range[0], middle]);
        continue;
      }
      // One kind still overflows one page within one second: split by the authors seen.
      // Every author seen anywhere in this second, not only in this page.
      const authors = new Set([...boundaryEvents.values()].map((event) => event.pubkey));
      let authorsExhausted = true;
      for (const author of authors) {
        const authorRequest: PageRequest = { since: second, until: second, limit: options.pageLimit, kinds, authors: [author] };
        const byAuthor = await ask(authorRequest);
        if (!byAuthor) return;
        await deliver(byAuthor.fresh, second);
        if (!(await exhausted(authorRequest, byAuthor.received))) authorsExhausted = false;
      }
      // Authors never seen in this second cannot be enumerated with NIP-01 filters; COUNT tells.
      if (authorsExhausted && (await exhausted(request, Number.POSITIVE_INFINITY))) continue;
      report.complete = false;
      report.incompleteReason ??= `second ${second} holds more kind ${range[0]} events than pages and author splits reach (negentropy closes this)`;
    }
  };

  let until = options.until;
  while (until >= options.since) {
    const request: PageRequest = { since: options.since, until, limit: options.pageLimit, ...(options.kinds ? { kinds: options.kinds } : {}) };
    const page = await ask(request);
    if (!page) break;
    if (page.inFilter.length === 0) {
      if (page.received > 0 && report.outOfFilter > 0 && page.received === report.outOfFilter) {
        report.complete = false;
        report.incompleteReason ??= 'the relay answers outside the requested window (ignores since/until)';
      }
      break;
    }
    await deliver(page.fresh, until);
    const oldest = page.inFilter.reduce((min, event) => Math.min(min, event.created_at), Number.POSITIVE_INFINITY);
    if (oldest < until) {
      until = oldest;
      continue;
    }
    // Every event of the page is in second `until`.
    const secondRequest: PageRequest = { ...request, since: until };
    if (!(await exhausted(secondRequest, page.received))) await drainSecond(until);
    if (pageBoundHit) break;
    until -= 1;
  }
  return report;
}
