/**
 * Tolerant NIP-11 parsing. Relays serve HTML error pages, huge documents, numbers as strings and
 * arrays of mixed types. Each known field is kept when its type is right (or unambiguously
 * convertible), dropped and recorded when it is not; unknown fields are kept aside untouched.
 */
import { jsonNestingExceeds } from './json-depth.js';

export interface Nip11Limitation {
  max_message_length?: number;
  max_subscriptions?: number;
  max_limit?: number;
  max_subid_length?: number;
  max_event_tags?: number;
  max_content_length?: number;
  min_pow_difficulty?: number;
  auth_required?: boolean;
  payment_required?: boolean;
  restricted_writes?: boolean;
  created_at_lower_limit?: number;
  created_at_upper_limit?: number;
  default_limit?: number;
}

export interface Nip11Document {
  name?: string;
  description?: string;
  banner?: string;
  icon?: string;
  pubkey?: string;
  self?: string;
  contact?: string;
  supported_nips?: number[];
  software?: string;
  version?: string;
  terms_of_service?: string;
  privacy_policy?: string;
  posting_policy?: string;
  payments_url?: string;
  relay_countries?: string[];
  language_tags?: string[];
  tags?: string[];
  fees?: Record<string, unknown>;
  limitation?: Nip11Limitation;
}

export interface DroppedField {
  field: string;
  reason: string;
}

export type Nip11ParseResult =
  | { ok: true; document: Nip11Document; dropped: DroppedField[]; unknown: Record<string, unknown>; raw: Record<string, unknown> }
  | { ok: false; reason: Nip11Failure; message: string };

/** Why a document was not read at all. */
export type Nip11Failure = 'too-large' | 'too-deep' | 'not-json' | 'not-object';

export const DEFAULT_NIP11_MAX_BYTES = 256 * 1024;
/** Deeper documents are refused: real ones nest 3 or 4 levels, and the document is walked recursively later. */
export const NIP11_MAX_DEPTH = 32;

const STRING_FIELDS = [
  'name',
  'description',
  'banner',
  'icon',
  'pubkey',
  'self',
  'contact',
  'software',
  'version',
  'terms_of_service',
  'privacy_policy',
  'posting_policy',
  'payments_url',
] as const;
const STRING_LIST_FIELDS = ['relay_countries', 'language_tags', 'tags'] as const;
const LIMITATION_NUMBERS = [
  'max_message_length',
  'max_subscriptions',
  'max_limit',
  'max_subid_length',
  'max_event_tags',
  'max_content_length',
  'min_pow_difficulty',
  'created_at_lower_limit',
  'created_at_upper_limit',
  'default_limit',
] as const;
const LIMITATION_BOOLEANS = ['auth_required', 'payment_required', 'restricted_writes'] as const;
const KNOWN = new Set<string>([...STRING_FIELDS, ...STRING_LIST_FIELDS, 'supported_nips', 'fees', 'limitation']);

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** An integer, or a string holding only an integer. */
function toInteger(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value === 'string' && /^\s*-?\d{1,15}\s*$/.test(value)) return Number(value);
  return undefined;
}

function toBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return undefined;
}

export function parseNip11(input: string | unknown, options: { maxBytes?: number } = {}): Nip11ParseResult {
  const decoded = typeof input === 'string' ? decodeDocument(input, options.maxBytes ?? DEFAULT_NIP11_MAX_BYTES) : { data: input };
  if ('reason' in decoded) return { ok: false, ...decoded };
  const data = decoded.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    return { ok: false, reason: 'not-object', message: `expected a JSON object, got ${describe(data)}` };
  const raw = data as Record<string, unknown>;
  const document: Nip11Document = {};
  const dropped: DroppedField[] = [];
  readStrings(raw, document, dropped);
  readStringLists(raw, document, dropped);
  if (raw.supported_nips !== undefined) readSupportedNips(raw.supported_nips, document, dropped);
  if (raw.fees !== undefined) {
    if (typeof raw.fees === 'object' && raw.fees !== null && !Array.isArray(raw.fees)) document.fees = raw.fees as Record<string, unknown>;
    else dropped.push({ field: 'fees', reason: `expected an object, got ${describe(raw.fees)}` });
  }
  if (raw.limitation !== undefined) readLimitation(raw.limitation, document, dropped);
  const unknown: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) if (!KNOWN.has(key)) unknown[key] = value;
  return { ok: true, document, dropped, unknown, raw };
}

/** The document text as JSON, refused before parsing when it is too large or too deeply nested. */
function decodeDocument(input: string, maxBytes: number): { data: unknown } | { reason: Nip11Failure; message: string } {
  if (Buffer.byteLength(input, 'utf8') > maxBytes) return { reason: 'too-large', message: `document larger than ${maxBytes} bytes` };
  if (jsonNestingExceeds(input, NIP11_MAX_DEPTH))
    return { reason: 'too-deep', message: `document nested deeper than ${NIP11_MAX_DEPTH} levels` };
  try {
    return { data: JSON.parse(input) as unknown };
  } catch {
    const looksHtml = /^\s*</.test(input);
    return { reason: 'not-json', message: looksHtml ? 'HTML instead of a JSON document' : 'not valid JSON' };
  }
}

function readStrings(raw: Record<string, unknown>, document: Nip11Document, dropped: DroppedField[]): void {
  for (const field of STRING_FIELDS) {
    const value = raw[field];
    if (value === undefined) continue;
    if (typeof value === 'string') document[field] = value;
    else if (typeof value === 'number') document[field] = String(value);
    else dropped.push({ field, reason: `expected a string, got ${describe(value)}` });
  }
}

function readStringLists(raw: Record<string, unknown>, document: Nip11Document, dropped: DroppedField[]): void {
  for (const field of STRING_LIST_FIELDS) {
    const value = raw[field];
    if (value === undefined) continue;
    if (!Array.isArray(value)) {
      if (typeof value === 'string') document[field] = [value];
      else dropped.push({ field, reason: `expected an array of strings, got ${describe(value)}` });
      continue;
    }
    const strings = value.filter((item): item is string => typeof item === 'string');
    if (strings.length !== value.length)
      dropped.push({ field: `${field}[]`, reason: `${value.length - strings.length} non-string item(s) dropped` });
    document[field] = strings;
  }
}

function readSupportedNips(value: unknown, document: Nip11Document, dropped: DroppedField[]): void {
  if (!Array.isArray(value)) {
    dropped.push({ field: 'supported_nips', reason: `expected an array of integers, got ${describe(value)}` });
    return;
  }
  const nips: number[] = [];
  let bad = 0;
  for (const item of value) {
    const nip = toInteger(item);
    if (nip !== undefined && nip >= 0) nips.push(nip);
    else bad += 1;
  }
  if (bad > 0) dropped.push({ field: 'supported_nips[]', reason: `${bad} item(s) that are not integers dropped` });
  document.supported_nips = [...new Set(nips)].sort((a, b) => a - b);
}

function readLimitation(limitation: unknown, document: Nip11Document, dropped: DroppedField[]): void {
  if (typeof limitation !== 'object' || limitation === null || Array.isArray(limitation)) {
    dropped.push({ field: 'limitation', reason: `expected an object, got ${describe(limitation)}` });
    return;
  }
  const source = limitation as Record<string, unknown>;
  const parsed: Nip11Limitation = {};
  for (const field of LIMITATION_NUMBERS) {
    if (source[field] === undefined) continue;
    const value = toInteger(source[field]);
    if (value !== undefined) parsed[field] = value;
    else dropped.push({ field: `limitation.${field}`, reason: `expected an integer, got ${describe(source[field])}` });
  }
  for (const field of LIMITATION_BOOLEANS) {
    if (source[field] === undefined) continue;
    const value = toBoolean(source[field]);
    if (value !== undefined) parsed[field] = value;
    else dropped.push({ field: `limitation.${field}`, reason: `expected a boolean, got ${describe(source[field])}` });
  }
  document.limitation = parsed;
}
