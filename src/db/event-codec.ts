/**
 * Event <-> row. Hex ids become bytea (half the size); tags and content go to jsonb/text, except that
 * PostgreSQL text cannot hold U+0000 and UTF-8 cannot hold a lone surrogate: for such events the exact
 * original travels in `raw_json` (UTF-8 of JSON.stringify([tags, content]), which escapes both) and the
 * columns hold a searchable copy with those characters replaced by U+FFFD.
 */
import type { NostrEvent } from '../nostr/event.js';
import { singleLetterTagValues } from '../nostr/tags.js';

// U+0000, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
// eslint-disable-next-line no-control-regex -- matching U+0000 is the point
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNSTORABLE_GLOBAL = new RegExp(UNSTORABLE.source, 'g');

export function isUnstorableText(text: string): boolean {
  return UNSTORABLE.test(text);
}

export function needsRawJson(event: Pick<NostrEvent, 'tags' | 'content'>): boolean {
  if (isUnstorableText(event.content)) return true;
  for (const tag of event.tags) for (const value of tag) if (isUnstorableText(value)) return true;
  return false;
}

/** The searchable copy of a text: U+0000 and lone surrogates replaced by U+FFFD. */
export function sanitizeText(text: string): string {
  return text.replace(UNSTORABLE_GLOBAL, '\uFFFD');
}

export function sanitizeTags(tags: string[][]): string[][] {
  return tags.map((tag) => tag.map(sanitizeText));
}

/** `'<letter>:<value>'` for the first value of every single-letter tag (sanitized), deduplicated: the event's `tagvalues` column. */
export function tagValues(tags: string[][]): string[] {
  return [...new Set(singleLetterTagValues(tags).map(({ name, value }) => `${name}:${sanitizeText(value)}`))];
}

export interface EventRow {
  id: Uint8Array;
  pubkey: Uint8Array;
  created_at: number | string;
  kind: number;
  tags: string[][];
  content: string;
  sig: Uint8Array;
  raw_json: Uint8Array | null;
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

/** The exact event as signed, from a stored row. */
export function decodeEventRow(row: EventRow): NostrEvent {
  let tags = row.tags;
  let content = row.content;
  if (row.raw_json) {
    [tags, content] = JSON.parse(Buffer.from(row.raw_json.buffer, row.raw_json.byteOffset, row.raw_json.byteLength).toString('utf8')) as [
      string[][],
      string,
    ];
  }
  return {
    id: hex(row.id),
    pubkey: hex(row.pubkey),
    created_at: Number(row.created_at),
    kind: row.kind,
    tags,
    content,
    sig: hex(row.sig),
  };
}

/** A row of eventsJsonQuery: the event's JSON built by the database, and raw_json when it has one. */
export interface EventJsonRow {
  json: string;
  raw_json: Uint8Array | null;
}

/**
 * The event's NIP-01 JSON text from an eventsJsonQuery row: the database's text as it is, or for an
 * event with raw_json (U+0000 or lone surrogates, which text columns cannot hold) its exact tags and
 * content from raw_json, serialised here (JSON.stringify escapes both).
 */
export function decodeEventJsonRow(row: EventJsonRow): string {
  if (!row.raw_json) return row.json;
  const head = JSON.parse(row.json) as Pick<NostrEvent, 'id' | 'pubkey' | 'created_at' | 'kind' | 'sig'>;
  const [tags, content] = JSON.parse(
    Buffer.from(row.raw_json.buffer, row.raw_json.byteOffset, row.raw_json.byteLength).toString('utf8'),
  ) as [string[][], string];
  const event: NostrEvent = {
    id: head.id,
    pubkey: head.pubkey,
    created_at: head.created_at,
    kind: head.kind,
    tags,
    content,
    sig: head.sig,
  };
  return JSON.stringify(event);
}
