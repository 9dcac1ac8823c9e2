/**
 * One page of a relay's stored events over an open connection: REQ, collect until EOSE, CLOSE.
 * Shape-invalid events are counted and dropped here; ids and signatures are checked by the caller.
 */
import { validateEventShape, type EventLimits, DEFAULT_EVENT_LIMITS } from '../nostr/event-shape.js';
import type { NostrEvent } from '../nostr/event.js';
import type { RelayConnection } from './connection.js';
import { RelayNetworkError, RelayProtocolError } from './errors.js';
import { messagePrefix } from './messages.js';
import type { RequestGuard } from './request-guard.js';
import type { CountEvents, FetchPage, PageRequest, PageResult } from './paginate.js';

export interface FetchPageStats {
  malformed: number;
  /** Pages that ended without EOSE (idle or overall timeout): they count as ended. */
  endedWithoutEose: number;
}

/** A relay refused the request with CLOSED; `prefix` is the machine-readable reason (`rate-limited`, `auth-required`, …). */
export class RelayRefusedError extends RelayProtocolError {
  constructor(relayUrl: string, readonly prefix: string | undefined, message: string) {
    super(relayUrl, `subscription closed by the relay: ${message}`);
    this.name = 'RelayRefusedError';
  }
}

function filterOf(request: PageRequest): Record<string, unknown> {
  const filter: Record<string, unknown> = { since: request.since, until: request.until, limit: request.limit };
  if (request.kinds) filter.kinds = request.kinds;
  if (request.authors) filter.authors = request.authors;
  return filter;
}

/** NIP-45 COUNT of a page's scope (without its limit), or undefined when the relay does not count. */
export function connectionCounter(connection: RelayConnection, guard?: RequestGuard): CountEvents {
  return (request) => {
    const { limit: _limit, ...filter } = filterOf(request);
    return guard ? guard.run(() => connection.count([filter])) : connection.count([filter]);
  };
}

/** One REQ with one filter over an open connection, collected until EOSE (or idle/overall timeout). */
async function fetchFilter(connection: RelayConnection, filter: Record<string, unknown>, stats: FetchPageStats, limits: EventLimits): Promise<PageResult> {
  const events: NostrEvent[] = [];
  let received = 0;
  const end = await connection.subscribe([filter], {
    onEvent: (raw) => {
      received += 1;
      const shape = validateEventShape(raw, limits);
      if (shape.ok) events.push(shape.event);
      else stats.malformed += 1;
    },
  });
  switch (end.reason) {
    case 'eose':
      break;
    case 'idle':
    case 'timeout':
      stats.endedWithoutEose += 1;
      break;
    case 'closed':
      throw new RelayRefusedError(connection.url, messagePrefix(end.message), end.message);
    case 'disconnected':
      throw new RelayNetworkError(connection.url, `connection lost during a page: ${end.message}`);
    case 'aborted':
      throw new RelayNetworkError(connection.url, 'page aborted');
  }
  return { events, received };
}

export function connectionPageFetcher(connection: RelayConnection, stats: FetchPageStats, limits: EventLimits = DEFAULT_EVENT_LIMITS, guard?: RequestGuard): FetchPage {
  return (request: PageRequest) => (guard ? guard.run(() => fetchFilter(connection, filterOf(request), stats, limits)) : fetchFilter(connection, filterOf(request), stats, limits));
}

/** Fetches events by id (`{ids, limit}`), for the ids negentropy found missing. */
export type FetchIds = (ids: string[]) => Promise<PageResult>;

export function connectionIdsFetcher(connection: RelayConnection, stats: FetchPageStats, limits: EventLimits = DEFAULT_EVENT_LIMITS, guard?: RequestGuard): FetchIds {
  return (ids) => (guard ? guard.run(() => fetchFilter(connection, { ids, limit: ids.length }, stats, limits)) : fetchFilter(connection, { ids, limit: ids.length }, stats, limits));
}
