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
