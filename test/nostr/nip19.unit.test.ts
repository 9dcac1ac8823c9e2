import { describe, expect, it } from 'vitest';
import { nip19 } from 'nostr-tools';
import { decodeNip19 } from '../../src/nostr/nip19.js';

const pubkey = '7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e';
const id = '5c83da77af1dec6d7289834998ad7aafbd9e2191396d75ec3cc27f5a77226f36';

describe('NIP-19 decoding', () => {
  it('decodes npub, note, nprofile and nevent as produced by nostr-tools', () => {
    expect(decodeNip19(nip19.npubEncode(pubkey))).toEqual({ kind: 'npub', hex: pubkey });
    expect(decodeNip19(nip19.noteEncode(id))).toEqual({ kind: 'note', hex: id });
    expect(decodeNip19(nip19.nprofileEncode({ pubkey, relays: ['wss://relay.example/', 'wss://other.example/'] }))).toEqual({
      kind: 'nprofile',
      hex: pubkey,
    });
    expect(decodeNip19(nip19.neventEncode({ id, relays: ['wss://relay.example/'], author: pubkey, kind: 1 }))).toEqual({
      kind: 'nevent',
      hex: id,
    });
  });

  it('refuses a bad checksum, mixed case, secret keys, other prefixes, wrong lengths and garbage', () => {
    const npub = nip19.npubEncode(pubkey);
    const flipped = `${npub.slice(0, -1)}${npub.endsWith('q') ? 'p' : 'q'}`;
    expect(decodeNip19(flipped)).toBeUndefined();
    expect(decodeNip19(npub.toUpperCase().slice(0, 10) + npub.slice(10))).toBeUndefined();
    expect(decodeNip19(nip19.nsecEncode(Uint8Array.from(Buffer.from(id, 'hex'))))).toBeUndefined();
    expect(decodeNip19(nip19.naddrEncode({ kind: 30023, pubkey, identifier: 'x' }))).toBeUndefined();
    for (const garbage of ['', 'npub', 'npub1', 'npub1bbbbbb', pubkey, 'x'.repeat(5_000), 'npub1' + 'q'.repeat(58)])
      expect(decodeNip19(garbage), garbage.slice(0, 20)).toBeUndefined();
  });
});
