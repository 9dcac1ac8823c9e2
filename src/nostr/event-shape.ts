/**
 * Shape validation of untrusted event JSON: every field present with the right type and form, within
 * size limits. It does not check the id or the signature (see verify-event.ts).
 */
import type { NostrEvent } from './event.js';
import { isHex128, isHex64 } from './hex.js';

export interface EventLimits {
  /** Most tags an event may have. */
  maxTags: number;
  /** Most strings in one tag. */
  maxTagValues: number;
  /** Largest content plus all tag strings, in UTF-16 code units. */
  maxTotalLength: number;
}

/** Defaults match the `limits.event_*` options; services pass the configured values. */
export const DEFAULT_EVENT_LIMITS: EventLimits = { maxTags: 10_000, maxTagValues: 1_000, maxTotalLength: 4 * 1024 * 1024 };

export type ShapeRejection =
  | 'not-object'
  | 'bad-id'
  | 'bad-pubkey'
  | 'bad-created-at'
  | 'bad-kind'
  | 'bad-tags'
  | 'bad-content'
  | 'bad-sig'
  | 'too-many-tags'
  | 'too-large';

export type ShapeResult = { ok: true; event: NostrEvent } | { ok: false; reason: ShapeRejection; message: string };

const fail = (reason: ShapeRejection, message: string): ShapeResult => ({ ok: false, reason, message });

export function validateEventShape(input: unknown, limits: EventLimits = DEFAULT_EVENT_LIMITS): ShapeResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return fail('not-object', 'event is not a JSON object');
  const candidate = input as Record<string, unknown>;
  if (!isHex64(candidate.id)) return fail('bad-id', 'id: expected 64 lowercase hex characters');
  if (!isHex64(candidate.pubkey)) return fail('bad-pubkey', 'pubkey: expected 64 lowercase hex characters');
  const createdAt = candidate.created_at;
  if (typeof createdAt !== 'number' || !Number.isSafeInteger(createdAt) || createdAt < 0) {
    return fail('bad-created-at', 'created_at: expected a non-negative integer number of seconds');
  }
  const kind = candidate.kind;
  if (typeof kind !== 'number' || !Number.isInteger(kind) || kind < 0 || kind > 65535)
    return fail('bad-kind', 'kind: expected an integer from 0 to 65535');
  if (typeof candidate.content !== 'string') return fail('bad-content', 'content: expected a string');
  if (!isHex128(candidate.sig)) return fail('bad-sig', 'sig: expected 128 lowercase hex characters');
  const tags = candidate.tags;
  if (!Array.isArray(tags)) return fail('bad-tags', 'tags: expected an array of arrays of strings');
  if (tags.length > limits.maxTags) return fail('too-many-tags', `tags: more than ${limits.maxTags} tags`);
  let total = candidate.content.length;
  for (let index = 0; index < tags.length; index += 1) {
    const tag: unknown = tags[index];
    if (!Array.isArray(tag)) return fail('bad-tags', `tags[${index}]: expected an array of strings`);
    if (tag.length > limits.maxTagValues) return fail('too-many-tags', `tags[${index}]: more than ${limits.maxTagValues} values`);
    for (const value of tag) {
      if (typeof value !== 'string') return fail('bad-tags', `tags[${index}]: expected only strings`);
      total += value.length;
    }
  }
  if (total > limits.maxTotalLength) return fail('too-large', `content and tags longer than ${limits.maxTotalLength} characters`);
  return {
    ok: true,
    event: {
      id: candidate.id,
      pubkey: candidate.pubkey,
      created_at: createdAt,
      kind,
      tags: tags as string[][],
      content: candidate.content,
      sig: candidate.sig,
    },
  };
}
