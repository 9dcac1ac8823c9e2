/**
 * Event <-> row. Hex ids become bytea (half the size); tags and content go to jsonb/text, except that
 * PostgreSQL text cannot hold U+0000 and UTF-8 cannot hold a lone surrogate: for such events the exact
 * original travels in `raw_json` (UTF-8 of JSON.stringify([tags, content]), which escapes both) and the
 * columns hold a searchable copy with those characters replaced by U+FFFD.
 */
import type { NostrEvent } from '../nostr/event.js';
import { isSingleLetterTagName, singleLetterTagValues } from '../nostr/tags.js';

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

const ARRAY_SPECIAL = /["\\]/;
const ARRAY_SPECIAL_GLOBAL = /["\\]/g;

/** One element of a PostgreSQL array literal, double-quoted (backslash and double quote escaped). */
export function quoteArrayElement(text: string): string {
  return ARRAY_SPECIAL.test(text) ? `"${text.replace(ARRAY_SPECIAL_GLOBAL, '\\$&')}"` : `"${text}"`;
}

/**
 * A text[] literal (`{"a","b"}`, NULL for null) sent as one string parameter: the driver's own array
 * encoding runs two regular-expression replacements and a type dispatch on every element.
 */
export function textArrayLiteral(values: readonly (string | null)[]): string {
  let literal = '{';
  for (let index = 0; index < values.length; index += 1) {
    const value = values[index] as string | null;
    if (index > 0) literal += ',';
    literal += value === null ? 'NULL' : quoteArrayElement(value);
  }
  return `${literal}}`;
}

/** `'<letter>:<value>'` for the first value of every single-letter tag, deduplicated (the bulk insert builds the same as a literal: tagValuesLiteral). */
export function tagValues(tags: string[][]): string[] {
  return [...new Set(singleLetterTagValues(tags).map(({ name, value }) => `${name}:${sanitizeText(value)}`))];
}

/**
 * `'<letter>:<value>'` for the first value of every single-letter tag (sanitized), deduplicated, as a
 * text[] literal: the event's `tagvalues` column. `clean`: no value needs sanitizing (checked by needsRawJson).
 */
export function tagValuesLiteral(tags: string[][], clean: boolean): string {
  let literal = '{';
  // Most events have a few indexed tags: a short list is cheaper than a Set, which takes over past 16.
  const few: string[] = [];
  let many: Set<string> | undefined;
  for (let index = 0; index < tags.length; index += 1) {
    const tag = tags[index] as string[];
    const name = tag[0];
    const value = tag[1];
    if (name === undefined || value === undefined || !isSingleLetterTagName(name)) continue;
    const key = `${name}:${clean ? value : sanitizeText(value)}`;
    if (many !== undefined) {
      if (many.has(key)) continue;
      many.add(key);
    } else {
      if (few.includes(key)) continue;
      few.push(key);
      if (few.length > 16) many = new Set(few);
    }
    literal += literal.length > 1 ? `,${quoteArrayElement(key)}` : quoteArrayElement(key);
  }
  return `${literal}}`;
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
  const [tags, content] = JSON.parse(Buffer.from(row.raw_json.buffer, row.raw_json.byteOffset, row.raw_json.byteLength).toString('utf8')) as [string[][], string];
  const event: NostrEvent = { id: head.id, pubkey: head.pubkey, created_at: head.created_at, kind: head.kind, tags, content, sig: head.sig };
  return JSON.stringify(event);
}
