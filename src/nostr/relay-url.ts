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
export type RelayNetwork = 'clearnet' | 'tor' | 'i2p' | 'loki';

export type RelayUrlRejection =
  | 'empty'
  | 'too-long'
  | 'whitespace'
  | 'comma'
  | 'not-a-url'
  | 'bad-scheme'
  | 'nested-scheme'
  | 'credentials'
  | 'bad-host'
  | 'bad-port';

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
  const bytes = parts.map((part) => (/^\d{1,3}$/.test(part) ? Number(part) : Number.NaN));
  return bytes.every((byte) => byte >= 0 && byte <= 255) ? bytes : undefined;
}

function isPrivateIPv4([a, b]: number[]): boolean {
  if (a === undefined || b === undefined) return false;
  return (
    a === 0 || // "this network"
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) || // CGNAT
    (a === 169 && b === 254) || // link-local
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0) || // IETF protocol assignments (incl. 192.0.0.0/24)
    (a === 198 && (b === 18 || b === 19)) || // benchmarking
    a >= 224 // multicast and reserved
  );
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
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => (/^[0-9a-f]{1,4}$/.test(group) ? Number.parseInt(group, 16) : Number.NaN)));
  const head = parse(halves[0] as string);
  const tail = halves.length === 2 ? parse(halves[1] as string) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return groups.every((group) => Number.isInteger(group) && group >= 0 && group <= 0xffff) ? groups : undefined;
}

function isPrivateIPv6(groups: number[]): boolean {
  const [first = 0] = groups;
  if (groups.every((group) => group === 0)) return true; // ::
  if (groups.slice(0, 7).every((group) => group === 0) && groups[7] === 1) return true; // ::1
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    // IPv4-mapped ::ffff:a.b.c.d
    const [g6 = 0, g7 = 0] = groups.slice(6);
    return isPrivateIPv4([g6 >> 8, g6 & 0xff, g7 >> 8, g7 & 0xff]);
  }
  return (
    (first & 0xfe00) === 0xfc00 || // unique local fc00::/7
    (first & 0xffc0) === 0xfe80 || // link-local fe80::/10
    (first & 0xff00) === 0xff00 || // multicast
    first === 0x2001 && groups[1] === 0x0db8 // documentation
  );
}

/** True for loopback, private, link-local, CGNAT, multicast, unspecified and IPv4-mapped private addresses. */
export function isPrivateAddress(ip: string): boolean {
  const v4 = parseIPv4(ip);
  if (v4) return isPrivateIPv4(v4);
  const v6 = expandIPv6(ip.replace(/^\[|\]$/g, '').replace(/%.*$/, ''));
  return v6 ? isPrivateIPv6(v6) : false;
}

/** True for hosts that never name a public relay: localhost names and private IP literals. */
export function isPrivateHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost' || bare.endsWith('.localhost') || bare.endsWith('.local') || bare.endsWith('.internal')) return true;
  return isPrivateAddress(bare);
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
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text.slice(schemeMatch[0].length)) || /^[a-z]+:\/?$/i.test(text.slice(schemeMatch[0].length).split('/')[0] ?? '')) {
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
  if (parsed.port !== '' && !/^\d+$/.test(parsed.port)) return reject('bad-port', 'invalid port');
  const defaultPort = scheme === 'wss' ? '443' : '80';
  const port = parsed.port === '' || parsed.port === defaultPort ? '' : `:${parsed.port}`;
  const path = normalizePercentEncoding(parsed.pathname === '' ? '/' : parsed.pathname);
  const query = parsed.search ? normalizePercentEncoding(parsed.search) : '';
  const url = `${scheme}://${host}${port}${path}${query}`;
  if (url.length > maxLength) return reject('too-long', `URL longer than ${maxLength} characters`);
  return { ok: true, url, host, network: networkOfHost(host), isPrivateLiteral: isPrivateHost(host) };
}
