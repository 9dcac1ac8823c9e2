/**
 * The pure steps of the store pipeline: counting verification verdicts, grouping consecutive verified
 * batches into one transaction within its limits, and the position each owed window shrinks to.
 */
import { describe, expect, it } from 'vitest';
import type { NostrEvent } from '../../src/nostr/event.js';
import type { EventVerdict } from '../../src/nostr/verify-event.js';
import {
  committedSomething,
  countVerdicts,
  emptyStoreTotals,
  groupEvents,
  lowestPositions,
  takeCommitGroup,
  type PassPosition,
  type WeighedBatch,
} from '../../src/services/sync/store-batch.js';

function event(n: number): NostrEvent {
  return { id: `id${n}`, pubkey: 'pk', created_at: n, kind: 1, tags: [], content: `event ${n}`, sig: `sig${n}` };
}

function batch(valid: number[] | undefined, bytes = 100, position?: PassPosition): WeighedBatch {
  return { bytes, position, ...(valid ? { valid: valid.map(event) } : {}) };
}

describe('countVerdicts', () => {
  it('keeps the events that verified, in order, and counts every kind of verdict', () => {
    const events = [1, 2, 3, 4, 5].map(event);
    const verdicts: EventVerdict[] = [
      { ok: true, serialization: 'nip01' },
      { ok: false, reason: 'bad-id' },
      { ok: true, serialization: 'nip01', known: true },
      { ok: false, reason: 'bad-sig' },
      { ok: false, reason: 'bad-sig' },
    ];
    const totals = emptyStoreTotals();
    totals.knownSignatures = 10;
    const valid = countVerdicts(events, verdicts, totals);
    expect(valid.map((e) => e.id)).toEqual(['id1', 'id3']);
    expect(totals).toEqual({ stored: 0, newLinks: 0, invalid: { badId: 1, badSig: 2 }, strictSerialization: 2, knownSignatures: 11 });
  });

  it('counts an event whose id matches only the plain JSON serialization as valid but not strict', () => {
    const totals = emptyStoreTotals();
    const verdicts: EventVerdict[] = [{ ok: true, serialization: 'json' }];
    expect(countVerdicts([event(1)], verdicts, totals)).toHaveLength(1);
    expect(totals.strictSerialization).toBe(0);
  });
});

describe('takeCommitGroup', () => {
  const limits = { maxEvents: 5, maxBytes: 1000 };

  it('takes the verified batches right behind the first, stopping at one not verified yet', () => {
    const waiting = [batch([1]), batch([2]), batch(undefined), batch([4])];
    const [first, second, third, fourth] = waiting;
    expect(takeCommitGroup(waiting, limits)).toEqual([first, second]);
    expect(waiting).toEqual([third, fourth]);
  });

  it('stops before the group would hold more events than one statement', () => {
    const waiting = [batch([1, 2]), batch([3, 4, 5]), batch([6])];
    expect(takeCommitGroup(waiting, limits)).toHaveLength(2);
    expect(waiting).toHaveLength(1);
  });

  it('stops before the group would weigh more than one page', () => {
    const waiting = [batch([1], 600), batch([2], 400), batch([3], 1)];
    expect(takeCommitGroup(waiting, limits).map((b) => b.bytes)).toEqual([600, 400]);
    expect(waiting.map((b) => b.bytes)).toEqual([1]);
  });

  it('takes the first batch alone, whatever it weighs', () => {
    const waiting = [batch([1, 2, 3, 4, 5, 6], 5000), batch([7], 1)];
    expect(takeCommitGroup(waiting, limits)).toHaveLength(1);
    expect(waiting).toHaveLength(1);
  });

  it('lets empty batches (positions alone) join', () => {
    const waiting = [batch([1, 2, 3, 4, 5], 10), batch([], 0, { owedId: 1, until: 9 }), batch([6], 1)];
    expect(takeCommitGroup(waiting, limits)).toHaveLength(2);
    expect(waiting).toHaveLength(1);
  });
});

describe('groupEvents', () => {
  it("is a single batch's own array", () => {
    const only = batch([1, 2]);
    expect(groupEvents([only])).toBe(only.valid);
  });

  it('joins the batches of a group in order', () => {
    expect(groupEvents([batch([1]), batch([]), batch([2, 3])]).map((e) => e.created_at)).toEqual([1, 2, 3]);
  });
});

describe('lowestPositions', () => {
  it('keeps the lowest position per owed window, in the order the windows first appear', () => {
    const group = [
      batch([], 0, { owedId: 7, until: 50 }),
      batch([1]),
      batch([], 0, { owedId: 3, until: 90 }),
      batch([], 0, { owedId: 7, until: 40 }),
      batch([], 0, { owedId: 7, until: 45 }),
    ];
    expect([...lowestPositions(group)]).toEqual([
      [7, 40],
      [3, 90],
    ]);
  });

  it('is empty without positions', () => {
    expect(lowestPositions([batch([1]), batch([])]).size).toBe(0);
  });
});

describe('committedSomething', () => {
  it('is true for events or a position, false for an empty batch without one', () => {
    expect(committedSomething(batch([1]))).toBe(true);
    expect(committedSomething(batch([], 0, { owedId: 1, until: 2 }))).toBe(true);
    expect(committedSomething(batch([]))).toBe(false);
  });
});
