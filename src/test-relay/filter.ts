/** NIP-01 filter semantics for the test relay. */
import type { NostrEvent } from '../nostr/event.js';

export interface Filter {
  ids?: string[];
  authors?: string[];
  kinds?: number[];
  since?: number;
  until?: number;
  limit?: number;
  [tag: `#${string}`]: string[] | undefined;
}

/** Reads a filter from untrusted JSON; returns an error message when it is malformed. */
export function parseFilter(input: unknown): Filter | string {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return 'filter is not an object';
  const filter = input as Record<string, unknown>;
  for (const [key, value] of Object.entries(filter)) {
    if (key === 'ids' || key === 'authors' || key.startsWith('#')) {
      if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) return `${key} must be an array of strings`;
    } else if (key === 'kinds') {
      if (!Array.isArray(value) || !value.every((item) => Number.isInteger(item))) return 'kinds must be an array of integers';
    } else if (key === 'since' || key === 'until' || key === 'limit') {
      if (!Number.isInteger(value) || (value as number) < 0) return `${key} must be a non-negative integer`;
    } else if (key !== 'search') {
      return `unknown filter field ${key}`;
    }
  }
  return filter as Filter;
}

export function matchesFilter(event: NostrEvent, filter: Filter, options: { ignoreTime?: boolean } = {}): boolean {
  if (filter.ids && !filter.ids.includes(event.id)) return false;
  if (filter.authors && !filter.authors.includes(event.pubkey)) return false;
  if (filter.kinds && !filter.kinds.includes(event.kind)) return false;
  if (!options.ignoreTime) {
    if (filter.since !== undefined && event.created_at < filter.since) return false;
    if (filter.until !== undefined && event.created_at > filter.until) return false;
  }
  for (const [key, values] of Object.entries(filter)) {
    if (!key.startsWith('#') || !Array.isArray(values)) continue;
    const name = key.slice(1);
    if (!event.tags.some((tag) => tag[0] === name && tag[1] !== undefined && values.includes(tag[1]))) return false;
  }
  return true;
}

/** NIP-40: the event carries an `expiration` tag whose time has passed. */
export function hasExpired(event: NostrEvent, nowSeconds: number): boolean {
  const value = event.tags.find((tag) => tag[0] === 'expiration')?.[1];
  return value !== undefined && /^\d+$/.test(value) && Number(value) <= nowSeconds;
}
