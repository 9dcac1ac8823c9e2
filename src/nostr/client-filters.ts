/**
 * NIP-01 filters sent by a client (the archive relay's REQ and COUNT, the data vending machine's job
 * requests), checked field by field and mapped to archive filters. Pure: no database, no socket.
 * Every refusal starts with a NIP-01 machine-readable prefix (`invalid:`, `unsupported:`) and names
 * the field, so it can go back to the client as it is.
 */
import type { ArchiveFilter } from '../db/event-query.js';
import { isHex64 } from './hex.js';

export interface FilterBounds {
  /** Most filters in one request. */
  maxFilters: number;
  /** Most values in one field (ids, authors, kinds, one tag). */
  maxValues: number;
  /** The largest limit honoured, and the limit when a filter has none. */
  maxLimit: number;
}

export interface ParsedFilters {
  filters: ArchiveFilter[];
  /** The limit of the initial query: the largest of the filters' limits, capped at `maxLimit`. */
  limit: number;
}

export type FilterResult = { ok: true; value: ParsedFilters } | { ok: false; reason: string };

const TAG_KEY = /^#[a-zA-Z]$/;

/** An untrusted name, shortened for a reply (the reply is JSON, so any character is safe in it). */
export function shorten(name: string): string {
  return name.length > 40 ? `${name.slice(0, 40)}…` : name;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonNegativeSafeInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Checks the filters of a request and maps them to archive filters; `reason` starts with a NIP-01 prefix. */
export function parseClientFilters(raw: unknown[], bounds: FilterBounds): FilterResult {
  const fail = (reason: string): FilterResult => ({ ok: false, reason });
  if (raw.length === 0) return fail('invalid: at least one filter is required');
  if (raw.length > bounds.maxFilters) return fail(`invalid: too many filters (max ${bounds.maxFilters})`);
  const filters: ArchiveFilter[] = [];
  let limit: number | undefined;
  let anyWithoutLimit = false;
  for (const candidate of raw) {
    const parsed = parseOneFilter(candidate, bounds.maxValues);
    if (typeof parsed === 'string') return fail(parsed);
    filters.push(parsed.filter);
    if (parsed.limit === undefined) anyWithoutLimit = true;
    else limit = Math.max(limit ?? 0, parsed.limit);
  }
  const requested = anyWithoutLimit || limit === undefined ? bounds.maxLimit : limit;
  return { ok: true, value: { filters, limit: Math.min(requested, bounds.maxLimit) } };
}

/** One client filter checked field by field: the archive filter and its own limit, or the refusal. */
function parseOneFilter(candidate: unknown, maxValues: number): { filter: ArchiveFilter; limit: number | undefined } | string {
  if (!isPlainObject(candidate)) return 'invalid: a filter must be a JSON object';
  const filter: ArchiveFilter = {};
  let limit: number | undefined;
  for (const [key, value] of Object.entries(candidate)) {
    if (key === 'limit') {
      if (!isNonNegativeSafeInt(value)) return 'invalid: limit must be a non-negative integer';
      limit = value;
      continue;
    }
    const refusal = applyField(filter, key, value, maxValues);
    if (refusal !== undefined) return refusal;
  }
  return { filter, limit };
}

/** Checks one field (other than `limit`) and writes it into `filter`; returns the refusal when it is not valid. */
function applyField(filter: ArchiveFilter, key: string, value: unknown, maxValues: number): string | undefined {
  switch (key) {
    case 'ids':
    case 'authors': {
      if (!Array.isArray(value)) return `invalid: ${key} must be an array`;
      if (value.length > maxValues) return `invalid: too many ${key} (max ${maxValues})`;
      if (!value.every(isHex64)) return `invalid: ${key} must be 64 lowercase hex characters`;
      filter[key] = value as string[];
      return undefined;
    }
    case 'kinds': {
      if (!Array.isArray(value)) return 'invalid: kinds must be an array';
      if (value.length > maxValues) return `invalid: too many kinds (max ${maxValues})`;
      if (!value.every((kind) => typeof kind === 'number' && Number.isInteger(kind) && kind >= 0 && kind <= 65_535)) {
        return 'invalid: kinds must be integers from 0 to 65535';
      }
      filter.kinds = value as number[];
      return undefined;
    }
    case 'since':
    case 'until': {
      if (!isNonNegativeSafeInt(value)) return `invalid: ${key} must be a non-negative integer timestamp`;
      filter[key] = value;
      return undefined;
    }
    case 'search':
      return 'unsupported: search is not supported';
    default:
      return applyTagField(filter, key, value, maxValues);
  }
}

/** A `#x` tag filter (one letter); any other unknown field is refused by name. */
function applyTagField(filter: ArchiveFilter, key: string, value: unknown, maxValues: number): string | undefined {
  if (!TAG_KEY.test(key)) return `invalid: unknown filter field ${shorten(key)}`;
  if (!Array.isArray(value)) return `invalid: ${key} must be an array`;
  if (value.length > maxValues) return `invalid: too many ${key} values (max ${maxValues})`;
  if (!value.every((item) => typeof item === 'string')) return `invalid: ${key} values must be strings`;
  filter.tags ??= {};
  filter.tags[key.slice(1)] = value as string[];
  return undefined;
}
