/**
 * The NIP-90 job kinds the archive answers. 5400 is the registry's "Nostr Event Count"
 * (github.com/nostr-protocol/data-vending-machines, kinds/5400.md), answered as it defines. The
 * registry has no kind for the other three questions, and NIP-90 forbids nothing but reusing a kind
 * for another meaning, so they take three unregistered kinds next to it (documented in docs/nips.md
 * with their inputs and outputs). Results are the request kind + 1000; feedback is kind 7000.
 */
export const JOB_KIND = {
  /** Registry kind 5400: how many archived events match (optionally grouped). */
  eventCount: 5400,
  /** Archived events matching NIP-01 filters, beyond what relays still hold. */
  archivedEvents: 5410,
  /** The relays an event was seen on, and when. */
  eventProvenance: 5411,
  /** A relay's uptime per day and its NIP-11 document history. */
  relayHistory: 5412,
} as const;

export type JobKind = (typeof JOB_KIND)[keyof typeof JOB_KIND];

export const JOB_KINDS: readonly JobKind[] = Object.values(JOB_KIND);

export const FEEDBACK_KIND = 7000;

export function resultKindOf(requestKind: JobKind): number {
  return requestKind + 1000;
}

export function isJobKind(kind: number): kind is JobKind {
  return (JOB_KINDS as readonly number[]).includes(kind);
}
