/** Keys and signing (the monitor publishes signed NIP-66 events; tests build signed fixtures). */
import { randomBytes } from 'node:crypto';
import * as tinySecp from 'tiny-secp256k1';
import type { NostrEvent } from './event.js';
import { computeEventId } from './event-id.js';
import { bytesToHex, hexToBytes, isHex64 } from './hex.js';

export type EventTemplate = Pick<NostrEvent, 'kind' | 'tags' | 'content'> & { created_at?: number };

export function generateSecretKey(): string {
  for (;;) {
    const candidate = randomBytes(32);
    if (tinySecp.isPrivate(candidate)) return candidate.toString('hex');
  }
}

export function getPublicKey(secretKeyHex: string): string {
  if (!isHex64(secretKeyHex)) throw new Error('secret key: expected 64 lowercase hex characters');
  const pubkey = tinySecp.xOnlyPointFromScalar(hexToBytes(secretKeyHex));
  return bytesToHex(pubkey);
}

/** Builds the id and the BIP-340 signature (with fresh auxiliary randomness) of a template. */
export function signEvent(template: EventTemplate, secretKeyHex: string): NostrEvent {
  const pubkey = getPublicKey(secretKeyHex);
  const unsigned = {
    pubkey,
    created_at: template.created_at ?? Math.floor(Date.now() / 1000),
    kind: template.kind,
    tags: template.tags,
    content: template.content,
  };
  const id = computeEventId(unsigned);
  const sig = bytesToHex(tinySecp.signSchnorr(hexToBytes(id), hexToBytes(secretKeyHex), randomBytes(32)));
  return { id, ...unsigned, sig };
}
