import { describe, expect, it } from 'vitest';
import { isPrivateAddress, isPrivateHost, normalizeRelayUrl } from '../../src/nostr/relay-url.js';

describe('normalizeRelayUrl', () => {
  const accepted: [string, string, string][] = [
    ['wss://Relay.Example.COM', 'wss://relay.example.com/', 'clearnet'],
    ['WSS://relay.example.com:443/', 'wss://relay.example.com/', 'clearnet'],
    ['ws://relay.example.com:80', 'ws://relay.example.com/', 'clearnet'],
    ['wss://relay.example.com:8443', 'wss://relay.example.com:8443/', 'clearnet'],
    ['ws://relay.example.com:443', 'ws://relay.example.com:443/', 'clearnet'],
    ['  wss://relay.example.com/  ', 'wss://relay.example.com/', 'clearnet'],
    ['wss://relay.example.com/nostr/', 'wss://relay.example.com/nostr/', 'clearnet'],
    ['wss://relay.example.com/%7Euser', 'wss://relay.example.com/~user', 'clearnet'],
    ['wss://relay.example.com/a%2fb', 'wss://relay.example.com/a%2Fb', 'clearnet'],
    ['wss://relay.example.com/?token=%7e', 'wss://relay.example.com/?token=~', 'clearnet'],
    ['wss://relay.example.com/#fragment', 'wss://relay.example.com/', 'clearnet'],
    ['wss://bücher.example', 'wss://xn--bcher-kva.example/', 'clearnet'],
    ['wss://relay.example.com.', 'wss://relay.example.com/', 'clearnet'],
    [
      'ws://abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion',
      'ws://abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion/',
      'tor',
    ],
    ['wss://relay.i2p', 'wss://relay.i2p/', 'i2p'],
    ['wss://relay.loki', 'wss://relay.loki/', 'loki'],
    ['ws://127.0.0.1:7777', 'ws://127.0.0.1:7777/', 'clearnet'],
    ['ws://[::1]:7777/', 'ws://[::1]:7777/', 'clearnet'],
  ];
  for (const [input, url, network] of accepted) {
    it(`normalises ${JSON.stringify(input)}`, () => {
      const result = normalizeRelayUrl(input);
      expect(result).toMatchObject({ ok: true, url, network });
    });
  }

  const refused: [string, string][] = [
    ['', 'empty'],
    ['https://relay.example.com', 'bad-scheme'],
    ['relay.example.com', 'not-a-url'],
    ['wss:relay.example.com', 'not-a-url'],
    ['wss://wss://relay.example.com', 'nested-scheme'],
    ['wss://relay.example.com,wss://other.example.com', 'comma'],
    ['wss://relay.example.com wss://other.example.com', 'whitespace'],
    ['wss://relay .example.com', 'whitespace'],
    ['wss://user:pass@relay.example.com', 'credentials'],
    ['wss://', 'not-a-url'],
    ['wss://-bad-.example.com', 'bad-host'],
    ['wss://1.2.3', 'bad-host'],
    ['wss://0x7f.1', 'bad-host'],
    ['wss://999.1.1.1', 'bad-host'],
    ['wss://relay.example.com:99999', 'not-a-url'],
    // Leading zeros read as octal by some resolvers (017.0.0.1 is 15.0.0.1 there, 17.0.0.1 here).
    ['wss://017.0.0.1', 'bad-host'],
    ['wss://010.1.1.1/', 'bad-host'],
    // A scheme glued into the host by a careless client (wss://https//relay…).
    ['wss://https//relay.example.com', 'nested-scheme'],
    ['wss://relay.example.com:0', 'bad-port'],
    [`wss://${'a'.repeat(2048)}.example.com`, 'too-long'],
  ];
  for (const [input, reason] of refused) {
    it(`refuses ${JSON.stringify(input.slice(0, 60))} as ${reason}`, () => {
      const result = normalizeRelayUrl(input);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.reason).toBe(reason);
        expect(result.message.length).toBeGreaterThan(0);
      }
    });
  }

  it('applies the length limit to input and output', () => {
    expect(normalizeRelayUrl('wss://relay.example.com/', { maxLength: 10 }).ok).toBe(false);
    expect(normalizeRelayUrl('wss://relay.example.com/', { maxLength: 24 }).ok).toBe(true);
  });

  it('flags private literals and localhost names', () => {
    expect(normalizeRelayUrl('ws://localhost:7777')).toMatchObject({ ok: true, isPrivateLiteral: true });
    expect(normalizeRelayUrl('ws://10.1.2.3')).toMatchObject({ ok: true, isPrivateLiteral: true });
    expect(normalizeRelayUrl('wss://relay.example.com')).toMatchObject({ ok: true, isPrivateLiteral: false });
  });
});

describe('private addresses', () => {
  const privateOnes = [
    '127.0.0.1',
    '127.255.0.9',
    '10.0.0.1',
    '172.16.5.4',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.1.1',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fe80::1',
    'fc00::1',
    'fd12:3456::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:192.168.0.1',
    '::ffff:7f00:1',
  ];
  const publicOnes = ['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '2a01:4f8::1'];
  for (const ip of privateOnes) it(`${ip} is private`, () => expect(isPrivateAddress(ip)).toBe(true));
  for (const ip of publicOnes) it(`${ip} is public`, () => expect(isPrivateAddress(ip)).toBe(false));
  it('names: localhost and its subdomains are private, others are not judged by name', () => {
    expect(isPrivateHost('localhost')).toBe(true);
    expect(isPrivateHost('relay.localhost')).toBe(true);
    expect(isPrivateHost('[::1]')).toBe(true);
    expect(isPrivateHost('relay.example.com')).toBe(false);
  });
});
