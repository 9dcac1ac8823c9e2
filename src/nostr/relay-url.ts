/**
 * Relay URL normalisation and validation. One URL form per relay, so that the same relay named in
 * different ways is stored once:
 *   - scheme ws or wss only, lowercased; host lowercased, IDN converted to punycode;
 *   - default ports dropped (80 for ws, 443 for wss);
 *   - the empty path becomes `/` (NIP-66 `d` tags use `wss://some.relay/`); other paths are kept as
 *     written, with unnecessary percent-encoding decoded; a trailing slash on a longer path is kept
 *     (relays behind path-routing proxies may need it);
 *   - fragments dropped; query strings kept (some relays route on them);
 *   - credentials (`user:pass@`), whitespace, commas, nested schemes and over-long input refused.
 */
import { isIP } from 'node:net';
import { isLocalName, isPublicAddress } from './addresses.js';

export type RelayNetwork = 'clearnet' | 'tor' | 'i2p' | 'loki';

export type RelayUrlRejection =
  'empty' | 'too-long' | 'whitespace' | 'comma' | 'not-a-url' | 'bad-scheme' | 'nested-scheme' | 'credentials' | 'bad-host' | 'bad-port';

export type NormalizedRelayUrl =
  | { ok: true; url: string; host: string; network: RelayNetwork; isPrivateLiteral: boolean }
  | { ok: false; reason: RelayUrlRejection; message: string };

export const DEFAULT_MAX_RELAY_URL_LENGTH = 512;

const HOST_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

function reject(reason: RelayUrlRejection, message: string): NormalizedRelayUrl {
  return { ok: false, reason, message };
}

export function networkOfHost(host: string): RelayNetwork {
  if (host.endsWith('.onion')) return 'tor';
  if (host.endsWith('.i2p')) return 'i2p';
  if (host.endsWith('.loki')) return 'loki';
  return 'clearnet';
}

/** Decodes percent-escapes of unreserved characters (RFC 3986 §2.3) and uppercases the rest. */
function normalizePercentEncoding(text: string): string {
  return text.replace(/%([0-9a-fA-F]{2})/g, (_match, hex: string) => {
    const char = String.fromCharCode(Number.parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(char) ? char : `%${hex.toUpperCase()}`;
  });
}

function parseIPv4(host: string): number[] | undefined {
  const parts = host.split('.');
  if (parts.length !== 4) return undefined;
  // No leading zeros: URL parsers read 017 as octal (15), so such a host means two different things.
  const bytes = parts.map((part) => (/^(0|[1-9]\d{0,2})$/.test(part) ? Number(part) : Number.NaN));
  return bytes.every((byte) => byte >= 0 && byte <= 255) ? bytes : undefined;
}

function expandIPv6(address: string): number[] | undefined {
  let text = address.toLowerCase();
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    const v4 = parseIPv4(text.slice(lastColon + 1));
    if (!v4) return undefined;
    const [a = 0, b = 0, c = 0, d = 0] = v4;
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string) =>
    part === '' ? [] : part.split(':').map((group) => (/^[0-9a-f]{1,4}$/.test(group) ? Number.parseInt(group, 16) : Number.NaN));
  const head = parse(halves[0] as string);
  const tail = halves.length === 2 ? parse(halves[1] as string) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return groups.every((group) => Number.isInteger(group) && group >= 0 && group <= 0xffff) ? groups : undefined;
}

/**
 * True for every address that is not a public unicast one: loopback, private, link-local, CGNAT,
 * multicast, reserved, unique- and site-local, NAT64, 6to4, Teredo, IPv4-mapped and -compatible
 * (src/relay/address-policy.ts, over ipaddr.js' range tables).
 */
export function isPrivateAddress(ip: string): boolean {
  return !isPublicAddress(ip);
}

/** True for hosts that never name a public relay: single-label and local names, non-public IP literals. */
export function isPrivateHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (isLocalName(bare)) return true;
  return isIP(bare) !== 0 && isPrivateAddress(bare);
}

function validHostname(host: string): boolean {
  if (host.startsWith('[')) return expandIPv6(host.slice(1, -1)) !== undefined;
  if (parseIPv4(host)) return true;
  if (/^[\d.]+$/.test(host)) return false; // things like 1.2.3 or 999.1.1.1
  const labels = host.replace(/\.$/, '').split('.');
  return host.length <= 253 && labels.every((label) => HOST_LABEL.test(label));
}

export function normalizeRelayUrl(input: string, options: { maxLength?: number } = {}): NormalizedRelayUrl {
  const maxLength = options.maxLength ?? DEFAULT_MAX_RELAY_URL_LENGTH;
  const text = input.trim();
  if (text === '') return reject('empty', 'empty URL');
  if (text.length > maxLength) return reject('too-long', `URL longer than ${maxLength} characters`);
  if (/\s/.test(text)) return reject('whitespace', 'URL contains whitespace');
  if (text.includes(',')) return reject('comma', 'URL contains a comma (two URLs joined?)');
  const schemeMatch = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(text);
  if (!schemeMatch) return reject('not-a-url', 'not a URL (expected ws:// or wss://)');
  const scheme = (schemeMatch[1] as string).toLowerCase();
  if (scheme !== 'ws' && scheme !== 'wss') return reject('bad-scheme', `scheme ${scheme}:// is not ws:// or wss://`);
  const rest = text.slice(schemeMatch[0].length);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(rest) || /^[a-z]+:\/?$/i.test(rest.split('/')[0] ?? '') || /^(wss?|https?):?\/\//i.test(rest)) {
    return reject('nested-scheme', 'URL has a second scheme inside it');
  }
  // The WHATWG parser rewrites odd IPv4 forms (1.2.3 → 1.2.0.3, 0x7f.1 → 127.0.0.1): refuse them as written.
  const rawHost = (/^[^/?#]*/.exec(text.slice(schemeMatch[0].length))?.[0] ?? '').replace(/^.*@/, '').replace(/:\d*$/, '');
  const numericParts = rawHost.replace(/\.$/, '').split('.');
  if (numericParts.every((part) => /^(0x[0-9a-f]*|\d+)$/i.test(part)) && !parseIPv4(rawHost)) {
    return reject('bad-host', `invalid IPv4 address ${JSON.stringify(rawHost.slice(0, 80))}`);
  }
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    return reject('not-a-url', 'not a valid URL');
  }
  if (parsed.username || parsed.password) return reject('credentials', 'URL contains credentials (user:password@)');
  const host = parsed.hostname.replace(/\.$/, '');
  if (host === '' || !validHostname(host)) return reject('bad-host', `invalid host ${JSON.stringify(parsed.hostname.slice(0, 80))}`);
  if (parsed.port !== '' && (!/^\d+$/.test(parsed.port) || Number(parsed.port) === 0)) return reject('bad-port', 'invalid port');
  const defaultPort = scheme === 'wss' ? '443' : '80';
  const port = parsed.port === '' || parsed.port === defaultPort ? '' : `:${parsed.port}`;
  const path = normalizePercentEncoding(parsed.pathname === '' ? '/' : parsed.pathname);
  const query = parsed.search ? normalizePercentEncoding(parsed.search) : '';
  const url = `${scheme}://${host}${port}${path}${query}`;
  if (url.length > maxLength) return reject('too-long', `URL longer than ${maxLength} characters`);
  return { ok: true, url, host, network: networkOfHost(host), isPrivateLiteral: isPrivateHost(host) };
}
