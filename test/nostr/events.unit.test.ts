import { describe, expect, it } from 'vitest';
import { computeEventId, hasAmbiguousSerialization, matchEventId, serializeJson, serializeNip01 } from '../../src/nostr/event-id.js';
import { validateEventShape, DEFAULT_EVENT_LIMITS } from '../../src/nostr/event-shape.js';
import { generateSecretKey, getPublicKey, signEvent } from '../../src/nostr/sign.js';
import { verifyEvent, verifyEvents } from '../../src/nostr/verify-event.js';
import { loadVerifier, wasmVerifier } from '../../src/nostr/schnorr.js';
import { bytesToHex, hexToBytes } from '../../src/nostr/hex.js';
import { singleLetterTagValues } from '../../src/nostr/tags.js';
import type { NostrEvent } from '../../src/nostr/event.js';
import * as tinySecp from 'tiny-secp256k1';
import { randomBytes } from 'node:crypto';
import { finalizeEvent, verifyEvent as nostrToolsVerify } from 'nostr-tools/pure';

const secretKey = generateSecretKey();
const verifier = loadVerifier();

function signed(content: string, tags: string[][] = [], kind = 1): NostrEvent {
  return signEvent({ kind, tags, content, created_at: 1_700_000_000 }, secretKey);
}

/** Signs an event whose id is computed with the NIP-01-strict serialization. */
function signedNip01(content: string): NostrEvent {
  const pubkey = getPublicKey(secretKey);
  const base = { pubkey, created_at: 1_700_000_000, kind: 1, tags: [['t', `x${content}`]], content };
  const id = computeEventId(base, 'nip01');
  const sig = bytesToHex(tinySecp.signSchnorr(hexToBytes(id), hexToBytes(secretKey), randomBytes(32)));
  return { id, ...base, sig };
}

describe('event ids and signatures', () => {
  it('matches nostr-tools on ordinary events, both ways', () => {
    const ours = signed('hello, nostr ✨ "quoted" \\ back\nslash\ttab', [
      ['e', 'a'.repeat(64), 'wss://r.example/', 'root'],
      ['t', 'zap'],
    ]);
    expect(nostrToolsVerify({ ...ours })).toBe(true);
    const theirs = finalizeEvent(
      { kind: 1, tags: [['p', 'b'.repeat(64)]], content: 'from nostr-tools', created_at: 1_700_000_001 },
      hexToBytes(secretKey),
    );
    const { id, pubkey, created_at, kind, tags, content, sig } = theirs;
    expect(verifyEvent({ id, pubkey, created_at, kind, tags, content, sig }, verifier)).toEqual({ ok: true, serialization: 'json' });
  });

  it('rejects a wrong id, a wrong signature and tampered content', () => {
    const event = signed('original');
    expect(verifyEvent({ ...event, id: 'f'.repeat(64) }, verifier)).toEqual({ ok: false, reason: 'bad-id' });
    const otherSig = signed('other').sig;
    expect(verifyEvent({ ...event, sig: otherSig }, verifier)).toEqual({ ok: false, reason: 'bad-sig' });
    expect(verifyEvent({ ...event, content: 'tampered' }, verifier)).toEqual({ ok: false, reason: 'bad-id' });
    // Re-id'd tampered content with the old signature: the id matches but the signature does not.
    const reIded = { ...event, content: 'tampered' };
    reIded.id = computeEventId(reIded);
    expect(verifyEvent(reIded, verifier)).toEqual({ ok: false, reason: 'bad-sig' });
  });

  it('accepts both serializations of a control character and reports which one matched', () => {
    const content = 'bell\u0007 and unit separator\u001f';
    expect(hasAmbiguousSerialization({ pubkey: '', created_at: 0, kind: 1, tags: [], content })).toBe(true);
    expect(serializeJson({ pubkey: 'p', created_at: 0, kind: 1, tags: [], content })).toContain('\\u0007');
    expect(serializeNip01({ pubkey: 'p', created_at: 0, kind: 1, tags: [], content })).toContain('\u0007');
    const jsonStyle = signed(content, [['t', 'x\u0001']]);
    const nip01Style = signedNip01(content);
    expect(jsonStyle.id).not.toBe(computeEventId(jsonStyle, 'nip01'));
    expect(verifyEvent(jsonStyle, verifier)).toEqual({ ok: true, serialization: 'json' });
    expect(verifyEvent(nip01Style, verifier)).toEqual({ ok: true, serialization: 'nip01' });
    expect(matchEventId(nip01Style)).toBe('nip01');
  });

  it('does not mistake an escaped backslash for a control escape', () => {
    const content = 'literal \\u0007 text, not a bell';
    expect(serializeNip01({ pubkey: 'p', created_at: 0, kind: 1, tags: [], content })).toBe(
      serializeJson({ pubkey: 'p', created_at: 0, kind: 1, tags: [], content }),
    );
  });

  it('verifies U+0000 in content and tags, and a lone surrogate', () => {
    for (const event of [signed('nul \u0000 inside', [['t', 'a\u0000b']]), signed('lone \ud800 surrogate')]) {
      expect(verifyEvent(event, verifier).ok).toBe(true);
    }
  });

  it('verifyEvents gives the same verdicts as verifyEvent, in order, on both back ends', () => {
    const good = signed('good');
    const badId = { ...signed('bad id'), id: '0'.repeat(64) };
    const badSig = { ...signed('bad sig'), sig: signed('x').sig };
    const events = [good, badId, badSig, signed('good 2')];
    for (const backEnd of [verifier, wasmVerifier]) {
      expect(verifyEvents(events, backEnd)).toEqual(events.map((event) => verifyEvent(event, backEnd)));
      expect(verifyEvents(events, backEnd).map((verdict) => verdict.ok)).toEqual([true, false, false, true]);
    }
  });
});

describe('validateEventShape', () => {
  const good = signed('shape', [['e', 'a'.repeat(64)]]);

  it('accepts a well-formed event and copies only the NIP-01 fields', () => {
    const result = validateEventShape({ ...good, extra: 'ignored' });
    expect(result).toEqual({ ok: true, event: good });
  });

  const cases: [string, unknown, string][] = [
    ['not an object', 'event', 'not-object'],
    ['array', [], 'not-object'],
    ['uppercase id', { ...good, id: good.id.toUpperCase() }, 'bad-id'],
    ['short pubkey', { ...good, pubkey: good.pubkey.slice(2) }, 'bad-pubkey'],
    ['uppercase sig', { ...good, sig: good.sig.toUpperCase() }, 'bad-sig'],
    ['float created_at', { ...good, created_at: 1.5 }, 'bad-created-at'],
    ['string created_at', { ...good, created_at: '1700000000' }, 'bad-created-at'],
    ['negative created_at', { ...good, created_at: -1 }, 'bad-created-at'],
    ['kind too big', { ...good, kind: 65536 }, 'bad-kind'],
    ['tags not array', { ...good, tags: {} }, 'bad-tags'],
    ['tag not array', { ...good, tags: ['e'] }, 'bad-tags'],
    ['tag with a number', { ...good, tags: [['e', 1]] }, 'bad-tags'],
    ['content not string', { ...good, content: null }, 'bad-content'],
    ['too many tags', { ...good, tags: Array.from({ length: DEFAULT_EVENT_LIMITS.maxTags + 1 }, () => ['t', 'x']) }, 'too-many-tags'],
    ['huge tag', { ...good, tags: [['t', 'x'.repeat(DEFAULT_EVENT_LIMITS.maxTotalLength + 1)]] }, 'too-large'],
  ];
  for (const [name, input, reason] of cases) {
    it(`rejects ${name} as ${reason}, naming the field`, () => {
      const result = validateEventShape(input);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.reason).toBe(reason);
    });
  }

  it('limits are parameters', () => {
    expect(validateEventShape({ ...good, tags: [['a'], ['b']] }, { ...DEFAULT_EVENT_LIMITS, maxTags: 1 }).ok).toBe(false);
    expect(validateEventShape({ ...good, tags: [['a'], ['b']] }, { ...DEFAULT_EVENT_LIMITS, maxTags: 2 }).ok).toBe(true);
  });
});

describe('single-letter tag values', () => {
  it('keeps the first value of single-letter tags, deduplicated', () => {
    expect(singleLetterTagValues([['e', 'x', 'relay'], ['e', 'x'], ['p', 'y'], ['title', 'ignored'], ['t'], ['T', 'Up']])).toEqual([
      { name: 'e', value: 'x' },
      { name: 'p', value: 'y' },
      { name: 'T', value: 'Up' },
    ]);
  });
});
