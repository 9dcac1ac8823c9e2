/**
 * Request parameters of the REST API as zod schemas: every value checked (hex lengths, integer
 * ranges, URL syntax) so that a bad one is a 400 naming it. Lists come as repeated parameters
 * (`kinds=1&kinds=7`) or comma-separated (`kinds=1,7`).
 */
import { z } from 'zod';
import { hexOrNip19, type Nip19Kind } from '../nostr/nip19.js';
import { normalizeRelayUrl } from '../nostr/relay-url.js';
import { decimalInteger } from '../zod-numbers.js';

/** A list parameter: repeated, comma-separated, or both. */
export function listOf<T extends z.ZodType>(item: T, maxItems: number) {
  return z.preprocess(
    (value) => {
      if (value === undefined) return undefined;
      const parts = (Array.isArray(value) ? value : [value]).flatMap((entry) => String(entry).split(','));
      return parts.map((part) => part.trim()).filter((part) => part.length > 0);
    },
    z
      .array(item)
      .min(1, { error: 'expected at least one value' })
      .max(maxItems, { error: `expected at most ${maxItems} values` }),
  );
}

export const hex64 = z.string().regex(/^[0-9a-f]{64}$/, { error: 'expected 64 lowercase hex characters' });

/** 64 hex characters, or a NIP-19 identifier of the given kinds (decoded to hex). */
function hexOrNip19Parameter(kinds: Nip19Kind[], what: string) {
  return z
    .string()
    .max(1_000, { error: `expected ${what}` })
    .transform((value, context) => {
      const hex = hexOrNip19(value, kinds);
      if (hex !== undefined) return hex;
      context.addIssue({ code: 'custom', message: `expected ${what}` });
      return z.NEVER;
    });
}

export const eventId = hexOrNip19Parameter(['note', 'nevent'], '64 lowercase hex characters or a note/nevent (NIP-19)');
export const publicKey = hexOrNip19Parameter(['npub', 'nprofile'], '64 lowercase hex characters or an npub/nprofile (NIP-19)');

/**
 * The one number parser of the API (digits only, see zod-numbers.ts), so every numeric parameter is
 * as strict as the column it reaches.
 */

export const kind = decimalInteger(0, 65_535, 'expected an integer kind (0-65535)');

/** The latest instant PostgreSQL timestamps and to_timestamp() take comfortably: 9999-12-31T23:59:59Z. */
export const MAX_UNIX_SECONDS = 253_402_300_799;

export const unixSeconds = decimalInteger(0, MAX_UNIX_SECONDS, `expected unix seconds (a decimal integer from 0 to ${MAX_UNIX_SECONDS})`);

/** An id cursor of an `integer` (int4) column: 0 to 2^31 - 1. */
export const intCursor = decimalInteger(0, 2_147_483_647, 'expected a cursor from a previous page');

export function pageLimit(defaultSize: number, maxSize: number) {
  return decimalInteger(1, maxSize, `expected an integer from 1 to ${maxSize}`).default(defaultSize);
}

/** A relay URL, normalised (the form the archive stores). */
export const relayUrl = z
  .string()
  .max(2_048, { error: 'expected a relay URL of at most 2048 characters' })
  .transform((value, context) => {
    const normalized = normalizeRelayUrl(value);
    if (!normalized.ok) {
      context.addIssue({ code: 'custom', message: `expected a ws:// or wss:// relay URL: ${normalized.message}` });
      return z.NEVER;
    }
    return normalized.url;
  });

export const cursor = z
  .string()
  .max(200, { error: 'expected a cursor from a previous page' })
  .regex(/^[A-Za-z0-9_-]+$/, { error: 'expected a cursor from a previous page' });

/** `#x` query keys (x a single letter): tag filters. */
export const TAG_KEY = /^#[a-zA-Z]$/;
