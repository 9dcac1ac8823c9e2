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

function sanitize(text: string): string {
  return text.replace(UNSTORABLE_GLOBAL, '\uFFFD');
}

/** `'<letter>:<value>'` for the first value of every single-letter tag, deduplicated. */
export function tagValues(tags: string[][]): string[] {
  return [...new Set(singleLetterTagValues(tags).map(({ name, value }) => `${name}:${sanitize(value)}`))];
}

/** Column values of one event, as arrays-friendly strings (hex for bytea, JSON text for jsonb). */
export interface EncodedEvent {
  idHex: string;
  pubkeyHex: string;
  createdAt: number;
  kind: number;
  tagsJson: string;
  content: string;
  sigHex: string;
  tagValues: string[];
  rawJsonHex: string | null;
}

export function encodeEvent(event: NostrEvent): EncodedEvent {
  const raw = needsRawJson(event);
  const tags = raw ? event.tags.map((tag) => tag.map(sanitize)) : event.tags;
  return {
    idHex: event.id,
    pubkeyHex: event.pubkey,
    createdAt: event.created_at,
    kind: event.kind,
    tagsJson: JSON.stringify(tags),
    content: raw ? sanitize(event.content) : event.content,
    sigHex: event.sig,
    tagValues: tagValues(event.tags),
    rawJsonHex: raw ? Buffer.from(JSON.stringify([event.tags, event.content]), 'utf8').toString('hex') : null,
  };
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
    [tags, content] = JSON.parse(Buffer.from(row.raw_json.buffer, row.raw_json.byteOffset, row.raw_json.byteLength).toString('utf8')) as [string[][], string];
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
