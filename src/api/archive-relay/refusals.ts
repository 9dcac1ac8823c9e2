/**
 * The messages a read-only archive refuses, each with its reply (pure). They need no state: the reply
 * follows from the message alone.
 */
import { isPlainObject, shorten } from '../../nostr/client-filters.js';

/** A message sent to a client: its type, then its fields (JSON-encoded when sent). */
export type RelayReply = [string, ...unknown[]];

const NEGENTROPY_TYPES = new Set(['NEG-OPEN', 'NEG-MSG', 'NEG-CLOSE', 'NEG-ERR']);

/** EVENT: OK false; the OK names the event's id when it is one (64 lowercase hex), else it is empty. */
export function refuseEvent(event: unknown): RelayReply {
  const id = isPlainObject(event) && typeof event.id === 'string' && /^[0-9a-f]{64}$/.test(event.id) ? event.id : '';
  return ['OK', id, false, 'blocked: this is a read-only archive'];
}

/** AUTH (NIP-42): nothing here needs it. */
export function refuseAuth(): RelayReply {
  return ['NOTICE', 'unsupported: AUTH is not needed here'];
}

export function isNegentropyType(type: string): boolean {
  return NEGENTROPY_TYPES.has(type);
}

/** NEG-OPEN, NEG-MSG, NEG-CLOSE, NEG-ERR (NIP-77): not served by the archive relay. */
export function refuseNegentropy(type: string): RelayReply {
  return ['NOTICE', `unsupported: ${type} (NIP-77 negentropy) is not supported`];
}

/** Any other type; the client's text is echoed only shortened. */
export function refuseUnknownType(type: string): RelayReply {
  return ['NOTICE', `invalid: unknown message type ${JSON.stringify(shorten(type))}`];
}
