/** Messages between the verification pool and its workers. */
import type { EventVerdict } from '../nostr/verify-event.js';

export interface VerifyRequest {
  id: number;
  /** The events as one JSON array: one string crosses the thread boundary faster than many objects. */
  eventsJson: string;
  /** Per event, 1 when its exact signature is archived already (only the id is checked). */
  signatureKnown?: Uint8Array;
}

export interface VerifyResponse {
  id: number;
  codes: Uint8Array;
}

const CODES: EventVerdict[] = [
  { ok: true, serialization: 'json' },
  { ok: true, serialization: 'nip01' },
  { ok: false, reason: 'bad-id' },
  { ok: false, reason: 'bad-sig' },
  { ok: true, serialization: 'json', known: true },
  { ok: true, serialization: 'nip01', known: true },
];

export function encodeVerdicts(verdicts: EventVerdict[]): Uint8Array {
  const codes = new Uint8Array(verdicts.length);
  verdicts.forEach((verdict, index) => {
    codes[index] = verdict.ok ? (verdict.serialization === 'json' ? 0 : 1) + (verdict.known ? 4 : 0) : verdict.reason === 'bad-id' ? 2 : 3;
  });
  return codes;
}

export function decodeVerdict(code: number): EventVerdict {
  return CODES[code] ?? { ok: false, reason: 'bad-sig' };
}
