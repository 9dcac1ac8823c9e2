/**
 * Which addresses and names are public: pure classification (no I/O) over ipaddr.js' range tables,
 * used when screening relay URLs and every host our clients connect to (src/relay/address-policy.ts).
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** Suffixes that never name a public host (RFC 6761, RFC 8375 and common private zones). */
const LOCAL_SUFFIXES = ['.localhost', '.local', '.internal', '.lan', '.home.arpa', '.intranet', '.localdomain'];

/** True for a public unicast address; everything special, private or reserved is false. */
export function isPublicAddress(text: string): boolean {
  const bare = text.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (!ipaddr.isValid(bare)) return false;
  let address = ipaddr.parse(bare);
  if (address.kind() === 'ipv6') {
    const v6 = address as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) address = v6.toIPv4Address();
    // IPv4-compatible ::a.b.c.d (deprecated, RFC 4291): never a public destination.
    else if (v6.parts.slice(0, 6).every((part) => part === 0)) return false;
  }
  return address.range() === 'unicast';
}

/** Names that can only mean something on a private network: no dot, `localhost`, local zones. */
export function isLocalName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  if (isIP(name.replace(/^\[|\]$/g, ''))) return false;
  if (!name.includes('.') || name === 'localhost') return true;
  return LOCAL_SUFFIXES.some((suffix) => name.endsWith(suffix));
}
