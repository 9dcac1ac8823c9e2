/** Reading what a client sends (pure): a frame into a message, REQ/COUNT filters, an event's id. */
import type { RawData } from 'ws';
import { parseFilter, type Filter } from './filter.js';

export type ClientMessage = [string, ...unknown[]];

/** A frame as a message whose first element is its type, or the NOTICE text that answers a malformed frame. */
export type ParsedFrame = { ok: true; message: ClientMessage } | { ok: false; notice: string };

export function parseClientMessage(data: RawData, isBinary: boolean): ParsedFrame {
  if (isBinary) return { ok: false, notice: 'invalid: binary frames are not supported' };
  let message: unknown;
  try {
    message = JSON.parse(data.toString());
  } catch {
    return { ok: false, notice: 'invalid: message is not JSON' };
  }
  if (!Array.isArray(message) || typeof message[0] !== 'string') return { ok: false, notice: 'invalid: message is not an array' };
  return { ok: true, message: message as ClientMessage };
}

/** A REQ's or COUNT's filters, or the first one's error message. */
export function parseFilters(rawFilters: unknown[]): Filter[] | string {
  const filters: Filter[] = [];
  for (const raw of rawFilters) {
    const parsed = parseFilter(raw);
    if (typeof parsed === 'string') return parsed;
    filters.push(parsed);
  }
  return filters;
}

/** The id an OK answers: the event's `id` when it is a string, else empty (the event may be anything). */
export function eventIdOf(raw: unknown): string {
  return typeof (raw as { id?: unknown })?.id === 'string' ? (raw as { id: string }).id : '';
}

/** A relay without NIP-77 treats NEG-* like any other unknown message type. */
export function isServedType(type: string, negentropy: boolean): boolean {
  return negentropy || !type.startsWith('NEG-');
}
