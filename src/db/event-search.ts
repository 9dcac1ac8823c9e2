/**
 * Newest-first searches by tag that stop early. A `#t` or `#p` value found on thousands of events
 * has no index in created_at order (the GIN index on `tagvalues` answers "which events", not "the
 * newest"), so `ORDER BY created_at DESC LIMIT 100` over the whole archive fetches and sorts every
 * match: 60,000 rows for the most popular hashtag at 10,000,000 events. Asking the newest window of
 * time first, and a window eight times wider only when it holds fewer than `limit` matches, reads
 * about what the page needs. The answer is the same as the whole archive's: a window keeps every
 * event at or after its start and drops only older ones, so `limit` matches inside it are the newest
 * `limit` of all (docs/api.md, "Tag searches").
 */
import type { NostrEvent } from '../nostr/event.js';
import type { Queryable } from './database.js';
import {
  eventsJsonQuery,
  eventsQuery,
  findEvents,
  findEventsJson,
  type ArchiveFilter,
  type EventPosition,
  type EventQuery,
} from './event-query.js';

/** Widths of the windows tried before the whole archive, in seconds: 1 hour, then eight times wider each (8 hours … 3.7 years). */
export const SEARCH_WINDOWS_SECONDS: readonly number[] = [3_600, 28_800, 230_400, 1_843_200, 14_745_600, 117_964_800];

/** Whether a search gains from windows: a tag value and no ids (ids find their few events directly). */
export function searchesByWindow(filters: readonly ArchiveFilter[]): boolean {
  return (
    filters.some((filter) => filter.tags !== undefined || filter.anyTag !== undefined) &&
    filters.every((filter) => filter.ids === undefined)
  );
}

/**
 * Where the windows end: the newest archived created_at not after the search's upper bound (the
 * cursor, or the latest `until` of the filters, or now plus a day for clocks that run ahead). Only
 * speed depends on it, never the answer: an archive of last year's events starts its windows there.
 */
async function windowsEnd(
  db: Queryable,
  filters: readonly ArchiveFilter[],
  position: EventPosition | undefined,
  nowSeconds: number,
): Promise<number | undefined> {
  const untils = filters.map((filter) => filter.until);
  let upper = untils.every((until) => until !== undefined) ? Math.max(...(untils as number[])) : nowSeconds + 86_400;
  if (position) upper = Math.min(upper, position.createdAt);
  upper = Math.floor(upper);
  const { rows } = await db.query<{ newest: string | number | null }>(
    'SELECT max(e.created_at) AS newest FROM event e WHERE e.created_at <= $1::bigint',
    [upper],
  );
  const newest = rows[0]?.newest;
  return newest === null || newest === undefined ? undefined : Number(newest);
}

/**
 * Above this many matches expected per event of the page, a search goes by windows; below, the whole
 * archive's query reads few rows anyway.
 */
export const WINDOW_MIN_EXPECTED_MATCHES_PER_ROW = 10;

export interface SearchOptions {
  /** The clock, in seconds (windows end at most a day after it). */
  nowSeconds?: number;
  /**
   * Matches the planner must expect per event of the page before windows are used
   * (default WINDOW_MIN_EXPECTED_MATCHES_PER_ROW; 0: always).
   */
  windowAbove?: number;
}

interface PlanNode {
  'Plan Rows'?: number;
  Plans?: PlanNode[];
}

/**
 * How many events the planner expects to match (the rows under the LIMIT of the search's plan): from
 * the statistics of `tagvalues`, a value among its most common elements gets its measured share, any
 * other one a small default. One planning, no execution.
 */
async function expectedMatches(db: Queryable, query: EventQuery): Promise<number> {
  const { rows } = await db.query<{ 'QUERY PLAN': string | { Plan: PlanNode }[] }>(`EXPLAIN (FORMAT JSON) ${query.text}`, query.values);
  const raw = rows[0]?.['QUERY PLAN'];
  const plans = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { Plan: PlanNode }[] | undefined;
  const limitNode = plans?.[0]?.Plan;
  return Number(limitNode?.Plans?.[0]?.['Plan Rows'] ?? limitNode?.['Plan Rows'] ?? Number.POSITIVE_INFINITY);
}

/** The filters with each tag value replaced by one no event carries (for the planner's estimate of an unknown value). */
function withUnknownValues(filters: readonly ArchiveFilter[]): ArchiveFilter[] {
  const unknown = (values: string[]) => values.map((_, index) => `\u0001bigbrotr-unknown-${index}`);
  return filters.map((filter) => ({
    ...filter,
    ...(filter.tags ? { tags: Object.fromEntries(Object.entries(filter.tags).map(([letter, values]) => [letter, unknown(values)])) } : {}),
    ...(filter.anyTag ? { anyTag: unknown(filter.anyTag) } : {}),
  }));
}

/**
 * Whether the planner expects the values on few events: fewer than `windowAbove` per row of the page,
 * or no more than a value its statistics do not know (one missing from the most common elements of
 * `tagvalues` in every partition: with many partitions their small defaults add up past the first
 * test, 1,578 events for any unknown value over 34 monthly partitions of 10,000,000 events).
 */
async function rareValues(
  db: Queryable,
  filters: readonly ArchiveFilter[],
  limit: number,
  position: EventPosition | undefined,
  windowAbove: number,
): Promise<boolean> {
  // The same WHERE as the search whatever it selects: plan it selecting nothing.
  const expected = await expectedMatches(db, eventsQuery([...filters], limit, position, '1'));
  if (expected <= limit * windowAbove) return true;
  const unknown = await expectedMatches(db, eventsQuery(withUnknownValues(filters), limit, position, '1'));
  return expected <= unknown * UNKNOWN_VALUE_MARGIN;
}

/**
 * An estimate within this factor of an unknown value's is an unknown value's (the planner's defaults
 * vary a little with the values' length).
 */
const UNKNOWN_VALUE_MARGIN = 1.5;

/**
 * The rows of `build(filters, limit, position)`, found through growing windows of created_at when
 * the filters search by tag; otherwise (or when the archive is empty) the one query as it is.
 */
async function newestRows<T>(
  db: Queryable,
  filters: readonly ArchiveFilter[],
  limit: number,
  position: EventPosition | undefined,
  run: (query: EventQuery) => Promise<T[]>,
  build: (filters: ArchiveFilter[], limit: number, position?: EventPosition) => EventQuery,
  options: SearchOptions,
): Promise<T[]> {
  const nowSeconds = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  const windowAbove = options.windowAbove ?? WINDOW_MIN_EXPECTED_MATCHES_PER_ROW;
  const whole = () => run(build([...filters], limit, position));
  if (limit <= 0 || !searchesByWindow(filters)) return whole();
  // A rare value (an event's replies, a seldom-used hashtag) is read whole: a few GIN lookups'
  // worth of rows, where each window would be one more statement.
  if (windowAbove > 0 && (await rareValues(db, filters, limit, position, windowAbove))) return whole();
  const end = await windowsEnd(db, filters, position, nowSeconds);
  if (end === undefined) return whole();
  // Below the lowest `since` of the filters a window adds nothing: the whole query is the same.
  const lowestSince = Math.min(...filters.map((filter) => filter.since ?? Number.NEGATIVE_INFINITY));
  for (const width of SEARCH_WINDOWS_SECONDS) {
    const start = end - width;
    if (start <= lowestSince) break;
    const windowed = filters.map((filter) => ({ ...filter, since: Math.max(filter.since ?? start, start) }));
    const rows = await run(build(windowed, limit, position));
    if (rows.length >= limit) return rows;
  }
  return whole();
}

/** Events matching any of the filters, newest first, at most `limit` after `position` (the REST search, DVM jobs). */
export function searchEvents(
  db: Queryable,
  filters: ArchiveFilter[],
  limit: number,
  position?: EventPosition,
  options: SearchOptions = {},
): Promise<NostrEvent[]> {
  return newestRows(db, filters, limit, position, (query) => findEvents(db, query), eventsQuery, options);
}

/** Several filters (any matching), newest first, as NIP-01 JSON texts (the archive relay's REQ). */
export function searchEventsJson(db: Queryable, filters: ArchiveFilter[], limit: number, options: SearchOptions = {}): Promise<string[]> {
  return newestRows(db, filters, limit, undefined, (query) => findEventsJson(db, query), eventsJsonQuery, options);
}
