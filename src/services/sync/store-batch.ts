/**
 * A batch of a pass's events on its way to the archive, and the pure steps of storing batches: counting
 * the verdicts of their verification, grouping consecutive verified batches into one transaction, and
 * the position each owed window shrinks to when a group commits.
 */
import type { NostrEvent } from '../../nostr/event.js';
import type { EventVerdict } from '../../nostr/verify-event.js';

export interface StoreTotals {
  stored: number;
  newLinks: number;
  invalid: { badId: number; badSig: number };
  strictSerialization: number;
  /** Events whose exact signature was archived already: id checked, signature not verified again. */
  knownSignatures: number;
}

export function emptyStoreTotals(): StoreTotals {
  return { stored: 0, newLinks: 0, invalid: { badId: 0, badSig: 0 }, strictSerialization: 0, knownSignatures: 0 };
}

/** Where the pass stands: the owed window `owedId` now ends at `until` (that second may be partly done). */
export interface PassPosition {
  owedId: number;
  until: number;
}

/** What grouping and committing need to know of a batch. */
export interface WeighedBatch {
  /** About the JSON size of the events (what the byte budget holds for them). */
  bytes: number;
  position: PassPosition | undefined;
  /** The events whose id and signature verified, once the verdicts are in. */
  valid?: NostrEvent[];
}

/** How much one shared transaction may hold. */
export interface GroupLimits {
  maxEvents: number;
  maxBytes: number;
}

/** Adds the verdicts (one per event, in order) to `totals`; returns the events that verified, in order. */
export function countVerdicts(events: readonly NostrEvent[], verdicts: readonly EventVerdict[], totals: StoreTotals): NostrEvent[] {
  const valid: NostrEvent[] = [];
  verdicts.forEach((verdict, index) => {
    if (verdict.ok) {
      valid.push(events[index] as NostrEvent);
      if (verdict.known) totals.knownSignatures += 1;
      if (verdict.serialization === 'nip01') totals.strictSerialization += 1;
    } else if (verdict.reason === 'bad-id') totals.invalid.badId += 1;
    else totals.invalid.badSig += 1;
  });
  return valid;
}

/**
 * Takes the first batch of `waiting` (verified already), and the batches right behind it that are
 * verified too while the group stays within `limits`, out of `waiting`, in order. The first batch is
 * taken whatever it weighs.
 */
export function takeCommitGroup<Batch extends WeighedBatch>(waiting: Batch[], limits: GroupLimits): Batch[] {
  const first = waiting.shift() as Batch;
  const group = [first];
  let events = first.valid?.length ?? 0;
  let bytes = first.bytes;
  for (
    let next = waiting[0];
    next?.valid !== undefined && events + next.valid.length <= limits.maxEvents && bytes + next.bytes <= limits.maxBytes;
    next = waiting[0]
  ) {
    group.push(waiting.shift() as Batch);
    events += next.valid.length;
    bytes += next.bytes;
  }
  return group;
}

/** The verified events of a group, in batch order (a single batch's own array). */
export function groupEvents(group: readonly WeighedBatch[]): NostrEvent[] {
  return group.length === 1 ? ((group[0] as WeighedBatch).valid ?? []) : group.flatMap((batch) => batch.valid ?? []);
}

/** Per owed window (in the order first seen), the lowest position saved for it in the group. */
export function lowestPositions(group: readonly WeighedBatch[]): Map<number, number> {
  const positions = new Map<number, number>();
  for (const { position } of group)
    if (position !== undefined)
      positions.set(position.owedId, Math.min(position.until, positions.get(position.owedId) ?? Number.POSITIVE_INFINITY));
  return positions;
}

/** A batch with nothing to store and no position to save committed nothing (and is not reported). */
export function committedSomething(batch: WeighedBatch): boolean {
  return (batch.valid?.length ?? 0) > 0 || batch.position !== undefined;
}
