/**
 * The relay error catalogue: the errors of talking to a relay, what a relay's refusal text means,
 * and the few names a failure is counted under. Callers decide retry vs skip by class, and what to
 * do about a refusal by its interpreted kind, never by message text: relays word the same refusal
 * in many ways, and one reading of the text here keeps those decisions consistent.
 */
import { DatabaseError } from '../db/errors.js';

/** The relay could not be reached or the connection broke (retryable with backoff). */
export class RelayNetworkError extends Error {
  constructor(
    readonly relayUrl: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${relayUrl}: ${message}`, options);
    this.name = 'RelayNetworkError';
  }
}

/** The relay answered, but not as NIP-01 says (garbage frames, wrong shapes). */
export class RelayProtocolError extends Error {
  constructor(
    readonly relayUrl: string,
    message: string,
  ) {
    super(`${relayUrl}: ${message}`);
    this.name = 'RelayProtocolError';
  }
}

/** A bounded wait ran out (handshake, EOSE, OK). */
export class RelayTimeoutError extends RelayNetworkError {
  constructor(relayUrl: string, what: string, timeoutMs: number) {
    super(relayUrl, `${what}: no answer within ${timeoutMs} ms`);
    this.name = 'RelayTimeoutError';
  }
}

/**
 * The relay refused a request, with CLOSED or with a NOTICE while it was our only outstanding
 * request. `prefix` is the NIP-01 machine-readable reason (`rate-limited`, `auth-required`, …, read
 * past strfry's `ERROR: `); `refusal` is what the text means for the request (interpretRefusal below).
 */
export class RelayRefusedError extends RelayProtocolError {
  readonly prefix: string | undefined;
  readonly refusal: Refusal;
  constructor(
    relayUrl: string,
    readonly relayMessage: string,
    readonly via: 'closed' | 'notice' = 'closed',
  ) {
    super(relayUrl, `request refused by the relay (${via === 'notice' ? 'NOTICE' : 'CLOSED'}): ${relayMessage.slice(0, 300)}`);
    this.name = 'RelayRefusedError';
    this.prefix = refusalPrefix(relayMessage);
    this.refusal = interpretRefusal(relayMessage);
  }
}

/**
 * A request the relay did not answer at all: no event, no EOSE, no CLOSED within the idle or overall
 * timeout. Silence proves nothing about what the relay holds; the request is retried later.
 */
export class RelayUnansweredError extends RelayTimeoutError {
  constructor(relayUrl: string, what: string, timeoutMs: number) {
    super(relayUrl, what, timeoutMs);
    this.name = 'RelayUnansweredError';
  }
}

/**
 * The outbound policy refused to connect (a discovered relay whose name is local or resolves to a
 * private address): nothing was contacted; not retried.
 */
export class RelayPolicyError extends Error {
  constructor(
    readonly relayUrl: string,
    readonly refusal: string,
    detail: string,
  ) {
    super(`${relayUrl}: not contacted (${refusal}): ${detail}`);
    this.name = 'RelayPolicyError';
  }
}

// ---------------------------------------------------------------------------------------------------
// What a refusal means
// ---------------------------------------------------------------------------------------------------

/**
 * What a relay's refusal means. Relays refuse requests with CLOSED or, very often, a NOTICE (and
 * then ignore the request), in words of their own: strfry puts `ERROR: ` before the NIP-01 prefix,
 * nostream and nestjs relays write sentences, eventstore's SQL back ends write `too many kinds`.
 * This reads the text once, so callers decide by kind (slow down, authenticate, shrink a list, give
 * up), never by matching messages themselves. Pure: no I/O.
 */

/** The lists a filter can hold that relays cap, and the number of filters in one REQ. */
export type FilterField = 'kinds' | 'authors' | 'ids' | 'filters' | 'limit';

export type Refusal =
  | { kind: 'rate-limited' }
  | { kind: 'auth-required' }
  /** A list (or the number of filters, or `limit`) too large; `max` when the relay named its limit. */
  | { kind: 'too-large'; field?: FilterField; max?: number }
  /** The relay will not answer a filter without a narrowing field (khatru's NoEmptyFilters). */
  | { kind: 'needs-narrower' }
  | { kind: 'other' };

/** `ERROR: auth-required: …` (strfry) → `auth-required: …`. */
export function stripErrorLead(message: string): string {
  return message.trim().replace(/^error:\s+(?=[a-z-]+:)/i, '');
}

/** The NIP-01 machine-readable prefix (`rate-limited`, `auth-required`, …), after strfry's `ERROR: `. */
export function refusalPrefix(message: string): string | undefined {
  return /^([a-z][a-z-]*):/.exec(stripErrorLead(message))?.[1];
}

const FIELD_WORDS: Record<Exclude<FilterField, 'limit'>, string> = {
  filters: 'filters?|arr(?:ay)? too big',
  kinds: 'kinds?',
  authors: 'authors?|pubkeys?',
  ids: 'ids?|event ids?',
};
const SIZE_WORDS =
  /too (?:many|large|big|long)|max(?:imum)?|exceed|more than|at most|less th[ae]n or equal|<=|limit(?:ation)?|only \d+|up to/i;

function mentions(text: string, words: string): boolean {
  return new RegExp(`(?:^|[^a-z])(?:${words})(?:[^a-z]|$)`, 'i').test(text);
}

/** The number the relay gave as its limit for `words`, when the text puts one next to it. */
function namedLimit(text: string, words: string): number | undefined {
  const patterns = [
    new RegExp(`(\\d{1,9})\\s+(?:${words})(?:[^a-z]|$)`, 'i'),
    new RegExp(`(?:${words})[^\\d\\[]{0,40}?(\\d{1,9})`, 'i'),
    /(?:max(?:imum)?|limit|at most|<=|less th[ae]n or equal to|more than|exceeds?|only|up to)\D{0,24}?(\d{1,9})/i,
  ];
  for (const pattern of patterns) {
    const match = pattern.exec(text);
    if (match) return Number(match[1]);
  }
  return undefined;
}

/** Reads a CLOSED or NOTICE text that answered one of our requests. */
export function interpretRefusal(message: string): Refusal {
  const text = stripErrorLead(message);
  const prefix = refusalPrefix(text);
  if (prefix === 'rate-limited' || /rate[- ]?limit|slow down|too many (?:requests|messages)|too fast/i.test(text))
    return { kind: 'rate-limited' };
  if (prefix === 'auth-required') return { kind: 'auth-required' };
  // About our subscription id or a concurrency cap, not about the filter's size.
  if (/subscription id|sub ?id|identifier|concurrent/i.test(text)) return { kind: 'other' };
  if (/empty filters?|must have|must include|needs? (?:a |an )?(?:kind|author|tag)|require[sd]? (?:a |an )?(?:kind|author|tag)/i.test(text))
    return { kind: 'needs-narrower' };
  if (!SIZE_WORDS.test(text) && !/too (?:many|large|big|long)/i.test(text)) return { kind: 'other' };
  // Filters first: "limitation.max_filters 10" also contains "limit".
  for (const field of ['filters', 'kinds', 'authors', 'ids'] as const) {
    if (!mentions(text, FIELD_WORDS[field])) continue;
    const max = namedLimit(text, FIELD_WORDS[field]);
    return max !== undefined && max > 0 ? { kind: 'too-large', field, max } : { kind: 'too-large', field };
  }
  if (/\blimit\b/i.test(text)) {
    const max = namedLimit(text, 'limit');
    return max !== undefined && max > 0 ? { kind: 'too-large', field: 'limit', max } : { kind: 'too-large', field: 'limit' };
  }
  return { kind: 'too-large' };
}

// ---------------------------------------------------------------------------------------------------
// Classification for metrics and retries
// ---------------------------------------------------------------------------------------------------

/**
 * The machine-readable prefixes of NIP-01 (and `auth-required` of NIP-42): the one list of them.
 * Anything else a relay invents is counted as `other`, so a relay cannot grow the metric's label set.
 */
export const MACHINE_READABLE_PREFIXES = [
  'rate-limited',
  'auth-required',
  'restricted',
  'blocked',
  'invalid',
  'error',
  'pow',
  'duplicate',
  'mute',
  'unsupported',
] as const;

const KNOWN_PREFIXES: ReadonlySet<string> = new Set(MACHINE_READABLE_PREFIXES);

/**
 * A low-cardinality name for a failure, for metrics and trace spans. Subclasses are tested before
 * their parents (a timeout is a network error, a refusal a protocol error) so each gets its own name.
 */
export function errorType(error: unknown): string {
  if (error instanceof RelayRefusedError) return `refused:${KNOWN_PREFIXES.has(error.prefix ?? '') ? error.prefix : 'other'}`;
  if (error instanceof RelayPolicyError) return 'policy';
  if (error instanceof RelayTimeoutError) return 'timeout';
  if (error instanceof RelayNetworkError) return 'network';
  if (error instanceof RelayProtocolError) return 'protocol';
  if (error instanceof DatabaseError) return 'database';
  return 'other';
}

/**
 * Only network errors (unreachable, connection lost, timeouts) are worth another attempt: a relay
 * that answered wrongly or refused will answer the same way again, and a policy refusal never changes.
 */
export function isRetryableRelayError(error: unknown): boolean {
  return error instanceof RelayNetworkError;
}
