/**
 * Reading what a client sends (pure: no socket, no database): one frame becomes either a command for
 * the connection (REQ, COUNT, CLOSE) or the reply that answers it outright (a NOTICE or CLOSED with a
 * NIP-01 prefix for a malformed message, OK false for EVENT, NOTICE for what is not supported). Every
 * message is untrusted and parsed defensively.
 */
import type WebSocket from 'ws';
import { parseClientFilters, type FilterBounds, type FilterResult } from '../../nostr/client-filters.js';
import { isNegentropyType, refuseAuth, refuseEvent, refuseNegentropy, refuseUnknownType, type RelayReply } from './refusals.js';

/** NIP-01 allows subscription ids of up to 64 characters. */
export const MAX_SUBID_LENGTH = 64;

/** The `type` label of bigbrotr_archive_relay_requests_total a message counts under. */
export type RequestLabel = 'req' | 'count' | 'close' | 'event' | 'invalid';

/**
 * What a connection has to act on. REQ and COUNT carry their filters parsed but not yet judged: the
 * request rate is checked before a bad filter is answered, as a relay that counts every request does.
 */
export type ClientCommand =
  | { type: 'REQ'; subId: string; filters: FilterResult }
  | { type: 'COUNT'; subId: string; filters: FilterResult }
  | { type: 'CLOSE'; subId: string };

/** A frame as the label it is counted under and either a command or the reply that answers it. */
export type ParsedMessage = { label: RequestLabel } & ({ kind: 'command'; command: ClientCommand } | { kind: 'reply'; reply: RelayReply });

function rawText(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function answer(label: RequestLabel, reply: RelayReply): ParsedMessage {
  return { label, kind: 'reply', reply };
}

function invalid(reason: string): ParsedMessage {
  return answer('invalid', ['NOTICE', reason]);
}

/** The subscription id of a REQ/COUNT, or the reply that tells the client what is wrong with it. */
export function checkSubId(value: unknown): { ok: true; subId: string } | { ok: false; reply: RelayReply } {
  if (typeof value !== 'string') return { ok: false, reply: ['NOTICE', 'invalid: the subscription id must be a string'] };
  if (value.length < 1 || value.length > MAX_SUBID_LENGTH) {
    // Never echo more than a short prefix of what the client sent (the longest valid id).
    const reason = `invalid: the subscription id must have 1 to ${MAX_SUBID_LENGTH} characters`;
    return { ok: false, reply: ['CLOSED', value.slice(0, MAX_SUBID_LENGTH), reason] };
  }
  return { ok: true, subId: value };
}

function parseRequest(type: 'REQ' | 'COUNT', message: unknown[], bounds: FilterBounds): ParsedMessage {
  const label = type === 'REQ' ? 'req' : 'count';
  const subId = checkSubId(message[1]);
  if (!subId.ok) return answer(label, subId.reply);
  return { label, kind: 'command', command: { type, subId: subId.subId, filters: parseClientFilters(message.slice(2), bounds) } };
}

/** Parses one frame from a client; `bounds` are the relay's limits on filters. */
export function parseClientMessage(data: WebSocket.RawData, isBinary: boolean, bounds: FilterBounds): ParsedMessage {
  if (isBinary) return invalid('invalid: binary messages are not supported');
  let message: unknown;
  try {
    message = JSON.parse(rawText(data));
  } catch {
    return invalid('invalid: the message is not JSON');
  }
  if (!Array.isArray(message) || typeof message[0] !== 'string')
    return invalid('invalid: a message must be a JSON array starting with its type');
  const type = message[0];
  switch (type) {
    case 'REQ':
    case 'COUNT':
      return parseRequest(type, message, bounds);
    case 'CLOSE':
      if (typeof message[1] !== 'string') return answer('close', ['NOTICE', 'invalid: CLOSE needs a subscription id']);
      return { label: 'close', kind: 'command', command: { type: 'CLOSE', subId: message[1] } };
    case 'EVENT':
      return answer('event', refuseEvent(message[1]));
    case 'AUTH':
      return answer('invalid', refuseAuth());
    default:
      return answer('invalid', isNegentropyType(type) ? refuseNegentropy(type) : refuseUnknownType(type));
  }
}
