/** Signature checks of EVENT and AUTH messages. */
import type { NostrEvent } from '../../nostr/event.js';
import { loadVerifier } from '../../nostr/schnorr.js';
import { verifyEvent } from '../../nostr/verify-event.js';

const verifier = loadVerifier();
/** Id and BIP-340 signature both check out. */
export const verifiedSignature = (event: NostrEvent): boolean => verifyEvent(event, verifier).ok;
