/**
 * What a relay requires (NIP-42 auth, payment, restricted writes, proof of work), from its NIP-11
 * document and from how it answered our read and write. The relay's behaviour wins over its
 * document: NIP-66 lets monitors contradict what a relay advertises.
 */
import type { Nip11Document } from '../../nostr/nip11.js';
import type { WebSocketOutcome } from './checks/websocket.js';

export interface Requirements {
  auth: boolean;
  payment: boolean;
  writes: boolean;
  pow: boolean;
}

export type RequirementSource = 'nip11' | 'reply' | 'none';

const PAYMENT_WORDS = /\b(pay|paid|payment|subscri\w*|invoice|lightning|sats?|zap)\b/i;
/** Refusals that say nothing about a policy (load, our event, a bug). */
const NOT_A_POLICY = new Set(['rate-limited', 'invalid', 'error', 'duplicate']);

export function deriveRequirements(
  nip11: Nip11Document | undefined,
  ws: WebSocketOutcome | undefined,
): { requirements: Requirements; sources: Record<keyof Requirements, RequirementSource> } | undefined {
  const answered = ws !== undefined && (ws.read?.rttMs !== undefined || ws.write?.detail.answered === true);
  if (!nip11 && !answered) return undefined;
  const limitation = nip11?.limitation ?? {};
  const prefixes = new Set(ws?.refusalPrefixes ?? []);
  const sources: Record<keyof Requirements, RequirementSource> = { auth: 'none', payment: 'none', writes: 'none', pow: 'none' };

  let auth = false;
  if (ws?.authRequired) [auth, sources.auth] = [true, 'reply'];
  else if (limitation.auth_required === true) [auth, sources.auth] = [true, 'nip11'];
  else if (limitation.auth_required === false) sources.auth = 'nip11';

  let payment = false;
  const paymentReply = (ws?.refusalMessages ?? []).some((message) => PAYMENT_WORDS.test(message));
  if (paymentReply) [payment, sources.payment] = [true, 'reply'];
  else if (limitation.payment_required === true) [payment, sources.payment] = [true, 'nip11'];
  else if (limitation.payment_required === false) sources.payment = 'nip11';

  let writes = false;
  const write = ws?.write;
  if (write?.detail.answered === true) {
    const prefix = write.detail.prefix as string | undefined;
    writes = write.ok ? false : prefix === undefined || !NOT_A_POLICY.has(prefix);
    sources.writes = 'reply';
  } else if (limitation.restricted_writes !== undefined) [writes, sources.writes] = [limitation.restricted_writes, 'nip11'];

  let pow = false;
  if (prefixes.has('pow')) [pow, sources.pow] = [true, 'reply'];
  else if (limitation.min_pow_difficulty !== undefined) [pow, sources.pow] = [limitation.min_pow_difficulty > 0, 'nip11'];

  return { requirements: { auth, payment, writes, pow }, sources };
}
