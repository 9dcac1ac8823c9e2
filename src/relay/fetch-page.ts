/**
 * One page of a relay's stored events over an open connection: REQ (one or several filters),
 * collect until the answer ends, CLOSE. How it ended matters as much as what came: only EOSE is an
 * answer that can prove a scope exhausted. Shape-invalid events are counted and dropped here; ids and
 * signatures are checked by the caller.
 */
import { validateEventShape, type EventLimits, DEFAULT_EVENT_LIMITS } from '../nostr/event-shape.js';
import type { NostrEvent } from '../nostr/event.js';
import type { RelayConnection, SubscriptionEnd } from './connection.js';
import { RelayNetworkError, RelayRefusedError, RelayUnansweredError } from './errors.js';
import type { RequestGuard } from './request-guard.js';

export { RelayRefusedError } from './errors.js';

/** One filter of a page: a time window, a limit and optionally lists. */
export interface PageRequest {
  since: number;
  until: number;
  limit: number;
  kinds?: number[];
  authors?: string[];
  ids?: string[];
}

/**
 * How a page ended: `eose` (the relay said that is all, up to its cap), `cut` (we stopped reading at
 * the byte budget), `stalled` (events came, then silence, a CLOSED or a NOTICE instead of EOSE: what
 * came is real, the rest is unknown).
 */
export type PageEnd = 'eose' | 'cut' | 'stalled';

export interface PageResult {
  /** Shape-valid events as the relay sent them (not yet checked against the filter). */
  events: NostrEvent[];
  /** How many EVENT messages the relay sent for this page (including invalid ones). */
  received: number;
  /** Bytes of those messages. */
  bytes: number;
  end: PageEnd;
  /** For `stalled`: what happened instead of EOSE. */
  endDetail?: string;
}

export interface FetchPageStats {
  malformed: number;
}

export interface FetchPageOptions {
  limits?: EventLimits;
  guard?: RequestGuard;
  /** Stop reading a page once its events weigh this many bytes. */
  maxPageBytes?: number;
}

/** A page of one or more filters (OR-ed, as NIP-01 says), all asked in one REQ. */
export type FetchPage = (filters: PageRequest[]) => Promise<PageResult>;
/** NIP-45 COUNT of one filter's scope (its limit ignored), or undefined when the relay does not answer it. */
export type CountEvents = (request: PageRequest) => Promise<number | undefined>;
/** Fetches events by id (`{ids, limit}`), for the ids negentropy found missing. */
export type FetchIds = (ids: string[]) => Promise<PageResult>;

export function filterOf(request: PageRequest): Record<string, unknown> {
  const filter: Record<string, unknown> = {};
  if (request.ids) filter.ids = request.ids;
  if (request.kinds) filter.kinds = request.kinds;
  if (request.authors) filter.authors = request.authors;
  if (!request.ids) {
    filter.since = request.since;
    filter.until = request.until;
  }
  filter.limit = request.limit;
  return filter;
}

/** "idle 15000 ms after 3 events" and the like, for logs and reports. */
function describeEnd(end: SubscriptionEnd, received: number, timeouts: { idle: number; overall: number }): string {
  switch (end.reason) {
    case 'idle':
      return `no EOSE: silent for ${timeouts.idle} ms after ${received} events`;
    case 'timeout':
      return `no EOSE within ${timeouts.overall} ms (${received} events came)`;
    case 'closed':
      return `CLOSED "${end.message.slice(0, 200)}" after ${received} events`;
    case 'notice':
      return `NOTICE "${end.message.slice(0, 200)}" after ${received} events`;
    default:
      return end.reason;
  }
}

async function fetchFilters(
  connection: RelayConnection,
  filters: Record<string, unknown>[],
  stats: FetchPageStats,
  options: FetchPageOptions,
): Promise<PageResult> {
  const limits = options.limits ?? DEFAULT_EVENT_LIMITS;
  const events: NostrEvent[] = [];
  let received = 0;
  let bytes = 0;
  const end = await connection.subscribe(
    filters,
    {
      onEvent: (raw, frameBytes) => {
        received += 1;
        bytes += frameBytes;
        const shape = validateEventShape(raw, limits);
        if (shape.ok) events.push(shape.event);
        else stats.malformed += 1;
      },
    },
    options.maxPageBytes === undefined ? {} : { maxBytes: options.maxPageBytes },
  );
  const timeouts = { idle: connection.timeouts.idle, overall: connection.timeouts.overall };
  switch (end.reason) {
    case 'eose':
      return { events, received, bytes, end: 'eose' };
    case 'cut':
      return { events, received, bytes, end: 'cut' };
    case 'idle':
    case 'timeout':
      if (received === 0)
        throw new RelayUnansweredError(
          connection.url,
          `REQ ${describeFilters(filters)}`,
          end.reason === 'idle' ? timeouts.idle : timeouts.overall,
        );
      return { events, received, bytes, end: 'stalled', endDetail: describeEnd(end, received, timeouts) };
    case 'closed':
    case 'notice':
      // Events came first: the relay answered, then stopped (rnostr's scan timeout, a drop mid-way).
      if (received > 0) return { events, received, bytes, end: 'stalled', endDetail: describeEnd(end, received, timeouts) };
      throw new RelayRefusedError(connection.url, end.message, end.reason);
    case 'disconnected':
      throw new RelayNetworkError(connection.url, `connection lost during a page: ${end.message}`);
    case 'aborted':
      throw new RelayNetworkError(connection.url, 'page aborted');
  }
}

/** The shape of a REQ for logs: list lengths and the time window, never the values. */
export function describeFilters(filters: readonly Record<string, unknown>[]): string {
  const shapes = filters.map((filter) => {
    const parts: string[] = [];
    for (const field of ['ids', 'authors', 'kinds'] as const) {
      const list = filter[field];
      if (Array.isArray(list)) parts.push(`${field}: ${list.length}`);
    }
    if (filter.since !== undefined) parts.push(`since: ${String(filter.since)}`);
    if (filter.until !== undefined) parts.push(`until: ${String(filter.until)}`);
    if (filter.limit !== undefined) parts.push(`limit: ${String(filter.limit)}`);
    return `{${parts.join(', ')}}`;
  });
  return shapes.length === 1 ? (shapes[0] as string) : `${shapes.length} filters ${shapes[0] ?? ''}…`;
}

/** A connection, or a getter for the current one (a session that may reconnect). */
export type ConnectionSource = RelayConnection | (() => RelayConnection);

const resolve = (source: ConnectionSource): RelayConnection => (typeof source === 'function' ? source() : source);

/** NIP-45 COUNT of a page's scope (without its limit), or undefined when the relay does not count. */
export function connectionCounter(source: ConnectionSource, options: { guard?: RequestGuard; timeoutMs?: number } = {}): CountEvents {
  return (request) => {
    const { limit: _limit, ...filter } = filterOf(request);
    const count = () => resolve(source).count([filter], options.timeoutMs);
    return options.guard ? options.guard.run(count) : count();
  };
}

export function connectionPageFetcher(source: ConnectionSource, stats: FetchPageStats, options: FetchPageOptions = {}): FetchPage {
  return (requests) => {
    const fetch = () => fetchFilters(resolve(source), requests.map(filterOf), stats, options);
    return options.guard ? options.guard.run(fetch) : fetch();
  };
}

export function connectionIdsFetcher(source: ConnectionSource, stats: FetchPageStats, options: FetchPageOptions = {}): FetchIds {
  return (ids) => {
    const fetch = () => fetchFilters(resolve(source), [{ since: 0, until: 0, ids, limit: ids.length }].map(filterOf), stats, options);
    return options.guard ? options.guard.run(fetch) : fetch();
  };
}
