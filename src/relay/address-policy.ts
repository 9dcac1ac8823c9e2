/**
 * The outbound-connection policy every client of ours follows (synchronizer, finder, validator,
 * monitor, external lists; the first hop and every redirect): a host is resolved, every address it
 * resolves to must be a public unicast address (ipaddr.js' range tables: private, loopback,
 * link-local, unique-local, site-local, CGNAT, multicast, reserved, NAT64, 6to4, Teredo, IPv4-mapped
 * and IPv4-compatible forms of any of them are refused), single-label and local names are refused
 * before any lookup, and the connection then goes to exactly the addresses that were screened, so a
 * name cannot re-resolve to something else in between. Relays the operator named, and
 * `relay_url.allow_private`, lift the address checks; overlay networks (.onion, .i2p, .loki) go
 * through their proxy and are not resolved here.
 */
import type { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { isLocalName, isPublicAddress } from '../nostr/addresses.js';
import { networkOfHost } from '../nostr/relay-url.js';

export { isLocalName, isPublicAddress } from '../nostr/addresses.js';

export type PolicyRefusal = 'private-address' | 'local-name';

export type HostScreen =
  /** `addresses`: connect to exactly these (empty: connect by name, as for trusted or overlay hosts). */
  | { ok: true; addresses: string[] }
  | { ok: false; refusal: PolicyRefusal; detail: string }
  /** The name does not resolve now: a failed attempt, not a refusal. */
  | { ok: false; refusal?: undefined; detail: string };

export interface HostScreenOptions {
  /** The operator named this host, or `relay_url.allow_private`: any address is accepted. */
  trusted: boolean;
  resolver: Pick<Resolver, 'resolve4' | 'resolve6'>;
}

/** A DNS lookup (for `ws`, `net` and undici) answering with exactly `addresses`: the connection goes where screening said. */
export function pinnedLookup(addresses: string[]) {
  return (_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    const entries = addresses.map((address) => ({ address, family: isIP(address) }));
    if (options.all) callback(null, entries);
    else callback(null, entries[0]?.address, entries[0]?.family);
  };
}

/** Screens one host (a relay's, or a redirect target's) before anything connects to it. */
export async function screenHost(host: string, options: HostScreenOptions): Promise<HostScreen> {
  const bare = host
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
  if (networkOfHost(bare) !== 'clearnet') return { ok: true, addresses: [] };
  if (isIP(bare)) {
    if (!options.trusted && !isPublicAddress(bare))
      return { ok: false, refusal: 'private-address', detail: `${bare} is not a public address` };
    return { ok: true, addresses: [bare] };
  }
  if (!options.trusted && isLocalName(bare)) return { ok: false, refusal: 'local-name', detail: `${bare} is a single-label or local name` };
  const [v4, v6] = await Promise.allSettled([options.resolver.resolve4(bare), options.resolver.resolve6(bare)]);
  const addresses = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
  // Trusted hosts: any address, and a name the configured servers do not know (`localhost`, a name
  // in /etc/hosts) is connected to by name.
  if (options.trusted) return { ok: true, addresses };
  if (addresses.length === 0) {
    const reason = v4.status === 'rejected' ? ((v4.reason as NodeJS.ErrnoException).code ?? 'no address') : 'no address';
    return { ok: false, detail: `${bare} does not resolve (${reason})` };
  }
  const refused = addresses.find((address) => !isPublicAddress(address));
  if (refused) return { ok: false, refusal: 'private-address', detail: `${bare} resolves to ${refused}, not a public address` };
  return { ok: true, addresses };
}
