import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  describeVerifier,
  loadNativeVerifier,
  loadVerifier,
  nativeAddonPath,
  wasmVerifier,
  type SchnorrVerifier,
} from '../../src/nostr/schnorr.js';
import { hexToBytes } from '../../src/nostr/hex.js';
import { verifyEvents } from '../../src/nostr/verify-event.js';
import { generateEvents, withBadSignature } from '../support/events.js';

interface Vector {
  index: number;
  pubkey: string;
  message: string;
  signature: string;
  valid: boolean;
  comment: string;
}

const vectors: Vector[] = readFileSync(join(import.meta.dirname, 'fixtures', 'bip340-vectors.csv'), 'utf8')
  .trim()
  .split('\n')
  .filter((line) => !line.startsWith('#'))
  .slice(1)
  .map((line) => {
    const [index, , pubkey, , message, signature, result, comment] = line.split(',');
    return {
      index: Number(index),
      pubkey: (pubkey as string).toLowerCase(),
      message: (message as string).toLowerCase(),
      signature: (signature as string).toLowerCase(),
      valid: result === 'TRUE',
      comment: comment ?? '',
    };
  });

const native = loadNativeVerifier().verifier;
const backEnds: SchnorrVerifier[] = [wasmVerifier, ...(native ? [native] : [])];
// 10,000 events from 40 authors, every 7th with a signature flipped by one bit.
const signed = generateEvents({ count: 10_000, authors: 40, kinds: [1, 7], seed: 'verifier-10k' });
const mixed = signed.map((event, index) => (index % 7 === 3 ? withBadSignature(event) : event));

describe('BIP-340 verification', () => {
  it('has the 15 official vectors (5 valid, 10 invalid)', () => {
    expect(vectors.length).toBe(15);
    expect(vectors.filter((vector) => vector.valid).length).toBe(5);
  });

  for (const verifier of backEnds) {
    it(`${verifier.name}: every official vector gives the expected result, singly and in a batch`, () => {
      for (const vector of vectors) {
        const result = verifier.verify(hexToBytes(vector.signature), hexToBytes(vector.message), hexToBytes(vector.pubkey));
        expect(result, `vector ${vector.index} ${vector.comment}`).toBe(vector.valid);
      }
      const sigs = Buffer.concat(vectors.map((vector) => Buffer.from(vector.signature, 'hex')));
      const msgs = Buffer.concat(vectors.map((vector) => Buffer.from(vector.message, 'hex')));
      const pubs = Buffer.concat(vectors.map((vector) => Buffer.from(vector.pubkey, 'hex')));
      expect([...verifier.verifyBatch(sigs, msgs, pubs, vectors.length)]).toEqual(vectors.map((vector) => (vector.valid ? 1 : 0)));
    });

    it(`${verifier.name}: 10,000 generated events, every flipped signature refused and every other accepted`, () => {
      const verdicts = verifyEvents(mixed, verifier);
      const wrong = verdicts.filter((verdict, index) => verdict.ok !== (index % 7 !== 3));
      expect(wrong.length).toBe(0);
      expect(verdicts.filter((verdict) => !verdict.ok).length).toBe(Math.ceil((10_000 - 3) / 7));
    });

    it(`${verifier.name}: wrong lengths are invalid, not a crash`, () => {
      const good = vectors[1] as Vector;
      expect(verifier.verify(hexToBytes(good.signature).subarray(0, 63), hexToBytes(good.message), hexToBytes(good.pubkey))).toBe(false);
      expect(verifier.verify(hexToBytes(good.signature), hexToBytes(good.message), hexToBytes(good.pubkey).subarray(0, 31))).toBe(false);
    });
  }

  it('the native addon (vendored libsecp256k1, needing only a C compiler) is built by npm install and chosen', () => {
    if (!existsSync(nativeAddonPath())) {
      // Only acceptable outside CI: a machine without a C compiler at npm install.
      expect(process.env.CI, `native addon missing at ${nativeAddonPath()}`).toBeFalsy();
      return;
    }
    expect(native?.name).toBe('native');
    expect(loadVerifier('auto').name).toBe('native');
    expect(describeVerifier().description).toMatch(/^native: libsecp256k1/);
  });

  it('BIGBROTR_VERIFIER-style choice forces the WASM back end', () => {
    expect(loadVerifier('wasm').name).toBe('wasm');
    expect(describeVerifier('wasm').description).toMatch(/^wasm/);
  });

  it('native batch rejects buffers shorter than the count', () => {
    if (!native) return expect(native).toBeUndefined();
    expect(() => native.verifyBatch(new Uint8Array(64), new Uint8Array(32), new Uint8Array(32), 2)).toThrow(/shorter than count/);
  });
});
