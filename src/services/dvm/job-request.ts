/**
 * Reading a NIP-90 job request: its inputs (`i` tags), parameters (`param` tags) and, for the jobs
 * that take filters, NIP-01 filters. Pure. A request we cannot answer gets a refusal whose text goes
 * back to the customer in a kind 7000 `error` feedback, so it names the tag or field at fault.
 */
import type { ArchiveFilter, CountGroup, EventPosition } from '../../db/event-query.js';
import { decodeCursor } from '../../db/event-query.js';
import { parseClientFilters, shorten, type FilterBounds } from '../../nostr/client-filters.js';
import type { NostrEvent } from '../../nostr/event.js';
import { isHex64 } from '../../nostr/hex.js';
import { normalizeRelayUrl } from '../../nostr/relay-url.js';
import { JOB_KIND, type JobKind } from './job-kinds.js';

export type Job =
  | { kind: typeof JOB_KIND.eventCount; filters: ArchiveFilter[]; groups: CountGroup[] }
  | { kind: typeof JOB_KIND.archivedEvents; filters: ArchiveFilter[]; maxResults: number; position?: EventPosition }
  | { kind: typeof JOB_KIND.eventProvenance; ids: string[] }
  | { kind: typeof JOB_KIND.relayHistory; url: string; since: number; maxResults: number };

export type JobParse = { ok: true; job: Job } | { ok: false; reason: string };

export interface JobLimits {
  maxResults: number;
  maxRelayUrlLength: number;
  /** Now, in unix seconds (relay history's default start is 30 days before it). */
  now: number;
}

/** Filters per job, values per filter field, ids per provenance job, groups per count. */
export const JOB_FILTER_BOUNDS: Omit<FilterBounds, 'maxLimit'> = { maxFilters: 10, maxValues: 100 };
export const MAX_PROVENANCE_IDS = 50;
export const MAX_COUNT_GROUPS = 3;
const DAY = 86_400;

const FIELD_GROUPS = new Set(['pubkey', 'kind', 'content']);
const MARKER_GROUPS = new Set(['root', 'reply']);

interface Input {
  data: string;
  type: string;
}

function inputsOf(request: NostrEvent): Input[] {
  return request.tags.filter((tag) => tag[0] === 'i').map((tag) => ({ data: tag[1] ?? '', type: tag[2] ?? '' }));
}

/** Values of each `param` key, in order. */
function paramsOf(request: NostrEvent): Map<string, string[]> {
  const params = new Map<string, string[]>();
  for (const tag of request.tags) {
    if (tag[0] !== 'param' || tag[1] === undefined || tag[2] === undefined) continue;
    const values = params.get(tag[1]);
    if (values) values.push(tag[2]);
    else params.set(tag[1], [tag[2]]);
  }
  return params;
}

function singleParam(params: Map<string, string[]>, name: string): { ok: true; value?: string } | { ok: false; reason: string } {
  const values = params.get(name) ?? [];
  if (values.length > 1) return { ok: false, reason: `param ${name}: given ${values.length} times, expected once` };
  return { ok: true, value: values[0] };
}

function parseCount(value: string | undefined, name: string, max: number): { ok: true; value: number } | { ok: false; reason: string } {
  if (value === undefined) return { ok: true, value: max };
  if (!/^\d{1,9}$/.test(value) || Number(value) < 1)
    return { ok: false, reason: `param ${name}: expected a positive integer, got ${JSON.stringify(shorten(value))}` };
  return { ok: true, value: Math.min(Number(value), max) };
}

function parseTimestamp(value: string | undefined, name: string): { ok: true; value?: number } | { ok: false; reason: string } {
  if (value === undefined) return { ok: true };
  if (!/^\d{1,12}$/.test(value))
    return { ok: false, reason: `param ${name}: expected a unix timestamp in seconds, got ${JSON.stringify(shorten(value))}` };
  return { ok: true, value: Number(value) };
}

/** JSON filters: from the content (an array of filters, or one filter) or from `text` inputs (one filter each). */
function filtersOf(
  request: NostrEvent,
  inputs: Input[],
  where: 'content' | 'inputs',
  maxLimit = 1,
): { ok: true; filters: ArchiveFilter[]; limit: number } | { ok: false; reason: string } {
  let raw: unknown[];
  if (where === 'content') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(request.content);
    } catch {
      return { ok: false, reason: 'content: expected a JSON array of NIP-01 filters' };
    }
    raw = Array.isArray(parsed) ? parsed : [parsed];
  } else {
    raw = [];
    for (const [index, input] of inputs.entries()) {
      if (input.type !== 'text')
        return {
          ok: false,
          reason: `input ${index + 1}: expected type "text" (a NIP-01 filter as JSON), got ${JSON.stringify(shorten(input.type))}`,
        };
      try {
        raw.push(JSON.parse(input.data));
      } catch {
        return { ok: false, reason: `input ${index + 1}: not JSON (expected a NIP-01 filter)` };
      }
    }
  }
  const parsed = parseClientFilters(raw, { ...JOB_FILTER_BOUNDS, maxLimit });
  return parsed.ok ? { ok: true, filters: parsed.value.filters, limit: parsed.value.limit } : { ok: false, reason: parsed.reason };
}

function parseEventCount(request: NostrEvent, inputs: Input[], params: Map<string, string[]>, limits: JobLimits): JobParse {
  let filters: ArchiveFilter[];
  if (request.content.trim() !== '') {
    const parsed = filtersOf(request, inputs, 'content');
    if (!parsed.ok) return parsed;
    filters = parsed.filters;
  } else if (inputs.length > 0) {
    // Registry 5400: "each input MUST be a tag value".
    if (inputs.length > JOB_FILTER_BOUNDS.maxValues) return { ok: false, reason: `too many inputs (max ${JOB_FILTER_BOUNDS.maxValues})` };
    filters = [{ anyTag: inputs.map((input) => input.data) }];
  } else {
    filters = [{}];
  }
  const relays = params.get('relay') ?? [];
  if (relays.length > JOB_FILTER_BOUNDS.maxFilters)
    return { ok: false, reason: `param relay: too many relays (max ${JOB_FILTER_BOUNDS.maxFilters})` };
  if (relays.length > 0) {
    const urls: string[] = [];
    for (const relay of relays) {
      const normalized = normalizeRelayUrl(relay, { maxLength: limits.maxRelayUrlLength });
      if (!normalized.ok)
        return { ok: false, reason: `param relay: ${JSON.stringify(shorten(relay))} is not a relay URL (${normalized.message})` };
      urls.push(normalized.url);
    }
    filters = urls.flatMap((relay) => filters.map((filter) => ({ ...filter, relay })));
  }
  const groupNames = params.get('group') ?? [];
  if (groupNames.length > MAX_COUNT_GROUPS) return { ok: false, reason: `param group: at most ${MAX_COUNT_GROUPS} groups` };
  const groups: CountGroup[] = [];
  for (const name of groupNames) {
    if (FIELD_GROUPS.has(name)) groups.push({ field: name as 'pubkey' | 'kind' | 'content' });
    else if (MARKER_GROUPS.has(name)) groups.push({ marker: name as 'root' | 'reply' });
    else if (name.length >= 1 && name.length <= 64) groups.push({ tag: name });
    else return { ok: false, reason: `param group: expected pubkey, kind, content, root, reply or a tag name (1 to 64 characters)` };
  }
  return { ok: true, job: { kind: JOB_KIND.eventCount, filters, groups } };
}

function parseArchivedEvents(request: NostrEvent, inputs: Input[], params: Map<string, string[]>, limits: JobLimits): JobParse {
  if (inputs.length === 0 && request.content.trim() === '')
    return { ok: false, reason: 'no filter: give NIP-01 filters as "text" inputs or as a JSON array in the content' };
  // A filter's own `limit` (NIP-01) bounds the answer like max_results does.
  const parsed = filtersOf(request, inputs, inputs.length > 0 ? 'inputs' : 'content', limits.maxResults);
  if (!parsed.ok) return parsed;
  const maxResults = singleParam(params, 'max_results');
  if (!maxResults.ok) return maxResults;
  const count = parseCount(maxResults.value, 'max_results', parsed.limit);
  if (!count.ok) return count;
  const cursor = singleParam(params, 'cursor');
  if (!cursor.ok) return cursor;
  let position: EventPosition | undefined;
  if (cursor.value !== undefined) {
    position = decodeCursor(cursor.value);
    if (!position) return { ok: false, reason: 'param cursor: not a cursor from one of our results' };
  }
  return {
    ok: true,
    job: { kind: JOB_KIND.archivedEvents, filters: parsed.filters, maxResults: count.value, ...(position ? { position } : {}) },
  };
}

function parseEventProvenance(inputs: Input[]): JobParse {
  if (inputs.length === 0) return { ok: false, reason: 'no input: give event ids as "event" inputs' };
  if (inputs.length > MAX_PROVENANCE_IDS) return { ok: false, reason: `too many inputs (max ${MAX_PROVENANCE_IDS})` };
  for (const [index, input] of inputs.entries()) {
    if (input.type !== 'event' && input.type !== 'text')
      return { ok: false, reason: `input ${index + 1}: expected type "event", got ${JSON.stringify(shorten(input.type))}` };
    if (!isHex64(input.data)) return { ok: false, reason: `input ${index + 1}: expected an event id (64 lowercase hex characters)` };
  }
  return { ok: true, job: { kind: JOB_KIND.eventProvenance, ids: [...new Set(inputs.map((input) => input.data))] } };
}

function parseRelayHistory(inputs: Input[], params: Map<string, string[]>, limits: JobLimits): JobParse {
  if (inputs.length !== 1) return { ok: false, reason: `expected exactly one input (the relay URL), got ${inputs.length}` };
  const input = inputs[0] as Input;
  if (input.type !== 'text' && input.type !== 'url')
    return { ok: false, reason: `input 1: expected type "text" or "url" (the relay URL), got ${JSON.stringify(shorten(input.type))}` };
  const normalized = normalizeRelayUrl(input.data, { maxLength: limits.maxRelayUrlLength });
  if (!normalized.ok)
    return { ok: false, reason: `input 1: ${JSON.stringify(shorten(input.data))} is not a relay URL (${normalized.message})` };
  const sinceParam = singleParam(params, 'since');
  if (!sinceParam.ok) return sinceParam;
  const since = parseTimestamp(sinceParam.value, 'since');
  if (!since.ok) return since;
  const maxResults = singleParam(params, 'max_results');
  if (!maxResults.ok) return maxResults;
  const count = parseCount(maxResults.value, 'max_results', limits.maxResults);
  if (!count.ok) return count;
  return {
    ok: true,
    job: { kind: JOB_KIND.relayHistory, url: normalized.url, since: since.value ?? limits.now - 30 * DAY, maxResults: count.value },
  };
}

/** The job a (verified, addressed to us, unencrypted) request asks for, or why it cannot be answered. */
export function parseJobRequest(request: NostrEvent & { kind: JobKind }, limits: JobLimits): JobParse {
  const inputs = inputsOf(request);
  const params = paramsOf(request);
  switch (request.kind) {
    case JOB_KIND.eventCount:
      return parseEventCount(request, inputs, params, limits);
    case JOB_KIND.archivedEvents:
      return parseArchivedEvents(request, inputs, params, limits);
    case JOB_KIND.eventProvenance:
      return parseEventProvenance(inputs);
    case JOB_KIND.relayHistory:
      return parseRelayHistory(inputs, params, limits);
  }
}
