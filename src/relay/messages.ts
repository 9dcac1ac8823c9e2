/**
 * Parses one text frame from a relay into a typed message, or says why it is not one. Everything a
 * relay sends is untrusted: nothing here throws, and nothing here walks a value recursively (V8's
 * JSON.parse is iterative, but JSON.stringify of a 5,000-deep array overflows the stack).
 */
export type RelayMessage =
  | { type: 'EVENT'; subId: string; event: unknown }
  | { type: 'EOSE'; subId: string }
  | { type: 'CLOSED'; subId: string; message: string }
  | { type: 'OK'; eventId: string; accepted: boolean; message: string }
  | { type: 'NOTICE'; message: string }
  | { type: 'AUTH'; challenge: string }
  /** `approximate`: the relay flagged the number as an estimate (`limited` in strfry, `hll` in khatru). */
  | { type: 'COUNT'; subId: string; count: number; approximate: boolean }
  | { type: 'NEG-MSG'; subId: string; message: string }
  | { type: 'NEG-ERR'; subId: string; message: string };

export type ParsedRelayMessage = { ok: true; message: RelayMessage } | { ok: false; reason: string };

const bad = (reason: string): ParsedRelayMessage => ({ ok: false, reason });
const isString = (value: unknown): value is string => typeof value === 'string';

export function parseRelayMessage(text: string): ParsedRelayMessage {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return bad('not JSON');
  }
  if (!Array.isArray(data) || data.length === 0 || !isString(data[0])) return bad('not a JSON array starting with a message type');
  const [type, a, b, c] = data as [string, unknown, unknown, unknown];
  switch (type) {
    case 'EVENT':
      return isString(a) && data.length >= 3
        ? { ok: true, message: { type, subId: a, event: b } }
        : bad('EVENT without subscription id and event');
    case 'EOSE':
      return isString(a) ? { ok: true, message: { type, subId: a } } : bad('EOSE without subscription id');
    case 'CLOSED':
      return isString(a) ? { ok: true, message: { type, subId: a, message: isString(b) ? b : '' } } : bad('CLOSED without subscription id');
    case 'OK':
      return isString(a) && typeof b === 'boolean'
        ? { ok: true, message: { type, eventId: a, accepted: b, message: isString(c) ? c : '' } }
        : bad('OK without event id and boolean');
    case 'NOTICE':
      // A NOTICE carries text (NIP-01). Anything else is an invalid frame, ignored like other garbage:
      // taken as a NOTICE it would fail the request it arrived beside, though the relay answers that
      // request next (the network benchmark's hostile relay lost every event that way). Never
      // serialise what the relay sent: a deeply nested value would overflow the stack.
      return isString(a)
        ? { ok: true, message: { type, message: a } }
        : bad(`NOTICE with a ${a === null ? 'null' : Array.isArray(a) ? 'array' : typeof a} instead of text`);
    case 'AUTH':
      return isString(a) ? { ok: true, message: { type, challenge: a } } : bad('AUTH without challenge');
    case 'COUNT': {
      const body = b as { count?: unknown; limited?: unknown; approximate?: unknown; hll?: unknown } | null;
      const count = body?.count;
      const approximate = body?.limited === true || body?.approximate === true || body?.hll !== undefined;
      return isString(a) && typeof count === 'number' && Number.isSafeInteger(count) && count >= 0
        ? { ok: true, message: { type, subId: a, count, approximate } }
        : bad('COUNT without subscription id and integer count');
    }
    case 'NEG-MSG':
    case 'NEG-ERR':
      return isString(a) && isString(b)
        ? { ok: true, message: { type, subId: a, message: b } }
        : bad(`${type} without subscription id and message`);
    default:
      return bad(`unknown message type ${JSON.stringify(type.slice(0, 32))}`);
  }
}

/** The machine-readable prefix of an OK/CLOSED message (`rate-limited`, `auth-required`, …), if any. */
export { refusalPrefix as messagePrefix } from './errors.js';
