/** Events for storage tests: real ids (sha256), random signatures (storage does not verify). */
import { randomBytes } from 'node:crypto';
import type { NostrEvent } from '../../src/nostr/event.js';
import { computeEventId } from '../../src/nostr/event-id.js';

let sequence = 0;

export function storageEvent(overrides: Partial<Omit<NostrEvent, 'id' | 'sig'>> = {}): NostrEvent {
  sequence += 1;
  const fields = {
    pubkey: overrides.pubkey ?? randomBytes(32).toString('hex'),
    created_at: overrides.created_at ?? 1_700_000_000 + sequence,
    kind: overrides.kind ?? 1,
    tags: overrides.tags ?? [
      ['e', randomBytes(32).toString('hex')],
      ['p', randomBytes(32).toString('hex')],
      ['t', 'fixture'],
    ],
    content: overrides.content ?? `fixture event ${sequence}`,
  };
  return { id: computeEventId(fields), ...fields, sig: randomBytes(64).toString('hex') };
}
