/**
 * Full verification of a shape-valid event: the id first (cheap sha256), then the BIP-340 signature.
 */
import type { NostrEvent } from './event.js';
import { matchEventId, type Serialization } from './event-id.js';
import { hexToBytes } from './hex.js';
import type { SchnorrVerifier } from './schnorr.js';

export type EventVerdict =
  /** `known`: the signature was verified earlier (only the id was checked this time). */
  { ok: true; serialization: Serialization; known?: boolean } | { ok: false; reason: 'bad-id' | 'bad-sig' };

export function verifyEvent(event: NostrEvent, verifier: SchnorrVerifier): EventVerdict {
  const serialization = matchEventId(event);
  if (!serialization) return { ok: false, reason: 'bad-id' };
  const valid = verifier.verify(hexToBytes(event.sig), hexToBytes(event.id), hexToBytes(event.pubkey));
  return valid ? { ok: true, serialization } : { ok: false, reason: 'bad-sig' };
}

/**
 * Verifies many events with one call into the verifier. Returns one verdict per event, in order.
 * `signatureKnown[i] === 1`: the archive holds this exact (id, sig) already verified; only the id is
 * checked (it proves the content), not the signature again.
 */
export function verifyEvents(events: NostrEvent[], verifier: SchnorrVerifier, signatureKnown?: Uint8Array): EventVerdict[] {
  const verdicts: EventVerdict[] = new Array(events.length);
  const pending: number[] = [];
  const serializations: Serialization[] = new Array(events.length);
  for (let index = 0; index < events.length; index += 1) {
    const serialization = matchEventId(events[index] as NostrEvent);
    if (!serialization) verdicts[index] = { ok: false, reason: 'bad-id' };
    else if (signatureKnown?.[index] === 1) verdicts[index] = { ok: true, serialization, known: true };
    else {
      serializations[index] = serialization;
      pending.push(index);
    }
  }
  if (pending.length === 0) return verdicts;
  const sigs = Buffer.allocUnsafe(pending.length * 64);
  const msgs = Buffer.allocUnsafe(pending.length * 32);
  const pubs = Buffer.allocUnsafe(pending.length * 32);
  pending.forEach((eventIndex, slot) => {
    const event = events[eventIndex] as NostrEvent;
    sigs.write(event.sig, slot * 64, 'hex');
    msgs.write(event.id, slot * 32, 'hex');
    pubs.write(event.pubkey, slot * 32, 'hex');
  });
  const results = verifier.verifyBatch(sigs, msgs, pubs, pending.length);
  pending.forEach((eventIndex, slot) => {
    verdicts[eventIndex] =
      results[slot] === 1 ? { ok: true, serialization: serializations[eventIndex] as Serialization } : { ok: false, reason: 'bad-sig' };
  });
  return verdicts;
}
