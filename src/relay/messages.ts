/**
 * Parses one text frame from a relay into a typed message, or says why it is not one. Everything a
 * relay sends is untrusted: nothing here throws.
 */
export type RelayMessage =
  | { type: 'EVENT'; subId: string; event: unknown }
  | { type: 'EOSE'; subId: string }
  | { type: 'CLOSED'; subId: string; message: string }
  | { type: 'OK'; eventId: string; accepted: boolean; message: string }
  | { type: 'NOTICE'; message: string }
  | { type: 'AUTH'; challenge: string }
  | { type: 'COUNT'; subId: string; count: number }
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
      return isString(a) && data.length >= 3 ? { ok: true, message: { type, subId: a, event: b } } : bad('EVENT without subscription id and event');
    case 'EOSE':
      return isString(a) ? { ok: true, message: { type, subId: a } } : bad('EOSE without subscription id');
    case 'CLOSED':
      return isString(a) ? { ok: true, message: { type, subId: a, message: isString(b) ? b : '' } } : bad('CLOSED without subscription id');
    case 'OK':
      return isString(a) && typeof b === 'boolean'
        ? { ok: true, message: { type, eventId: a, accepted: b, message: isString(c) ? c : '' } }
        : bad('OK without event id and boolean');
    case 'NOTICE':
      return { ok: true, message: { type, message: isString(a) ? a : JSON.stringify(a ?? '') } };
    case 'AUTH':
      return isString(a) ? { ok: true, message: { type, challenge: a } } : bad('AUTH without challenge');
    case 'COUNT': {
      const count = (b as { count?: unknown } | null)?.count;
      return isString(a) && typeof count === 'number' && Number.isSafeInteger(count) && count >= 0
        ? { ok: true, message: { type, subId: a, count } }
        : bad('COUNT without subscription id and integer count');
    }
    case 'NEG-MSG':
    case 'NEG-ERR':
      return isString(a) && isString(b) ? { ok: true, message: { type, subId: a, message: b } } : bad(`${type} without subscription id and message`);
    default:
      return bad(`unknown message type ${JSON.stringify(type.slice(0, 32))}`);
  }
}

/** The machine-readable prefix of an OK/CLOSED message (`rate-limited`, `auth-required`, …), if any. */
export function messagePrefix(message: string): string | undefined {
  const match = /^([a-z-]+):/.exec(message);
  return match?.[1];
}
