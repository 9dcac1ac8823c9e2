import { describe, expect, it } from 'vitest';
import { KnownSignatures } from '../../src/verify/known-signatures.js';

const id = (n: number) => n.toString(16).padStart(64, '0');
const sig = (n: number) => n.toString(16).padStart(128, 'a');

describe('KnownSignatures', () => {
  it('knows a remembered (id, signature) and refuses another signature over the same id', () => {
    const known = new KnownSignatures(10);
    known.remember(id(1), sig(1));
    expect(known.has(id(1), sig(1))).toBe(true);
    expect(known.has(id(1), sig(2))).toBe(false);
    expect(known.has(id(2), sig(1))).toBe(false);
  });

  it('stays within its capacity and forgets the oldest first', () => {
    const known = new KnownSignatures(1_000);
    for (let n = 0; n < 10_000; n += 1) {
      known.remember(id(n), sig(n));
      expect(known.size).toBeLessThanOrEqual(1_000);
    }
    expect(known.has(id(9_999), sig(9_999))).toBe(true);
    expect(known.has(id(9_500), sig(9_500))).toBe(true); // within the newest half
    expect(known.has(id(0), sig(0))).toBe(false);
    expect(known.has(id(8_000), sig(8_000))).toBe(false);
  });

  it('remembers nothing with capacity 0', () => {
    const known = new KnownSignatures(0);
    known.remember(id(1), sig(1));
    expect(known.size).toBe(0);
    expect(known.has(id(1), sig(1))).toBe(false);
  });
});
