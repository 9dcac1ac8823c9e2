/**
 * Screening of relay URLs before anything connects to them: black/whitelist, then (unless the URL
 * comes from the operator or private networks are allowed) refusal of private, loopback, link-local
 * and multicast addresses, both as literals and after DNS resolution, so that a public name resolving
 * to 127.0.0.1 (DNS rebinding) is refused too. Tor, I2P and Lokinet names are not resolved here.
 */
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { isPrivateAddress, isPrivateHost, networkOfHost } from '../nostr/relay-url.js';
import type { RelayUrlFilter } from './url-patterns.js';

export type ScreenRefusal = 'blacklisted' | 'not-whitelisted' | 'private-address';

export type ScreenResult =
  /** `addresses`: what the host resolved to, to connect to exactly those (empty: connect by name). */
  | { ok: true; addresses: string[] }
  | { ok: false; refusal: ScreenRefusal; detail: string }
  /** The name does not resolve now: a failed attempt, not a refusal. */
  | { ok: false; refusal?: undefined; detail: string };

export interface ScreenOptions {
  filter: RelayUrlFilter;
  /** The operator named this relay (seed file, config, --relay): private addresses are accepted. */
  trusted: boolean;
  allowPrivate: boolean;
  resolver: Pick<Resolver, 'resolve4' | 'resolve6'>;
}

/** A resolver using `servers` (host or host:port), or the system's name servers when empty. */
export function createResolver(servers: readonly string[], timeoutMs: number): Resolver {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
  if (servers.length > 0) resolver.setServers([...servers]);
  return resolver;
}

export async function screenRelayUrl(url: string, options: ScreenOptions): Promise<ScreenResult> {
  const listed = options.filter.refusal(url);
  if (listed) return { ok: false, refusal: listed, detail: listed === 'blacklisted' ? 'matches relay_url.blacklist' : 'matches no relay_url.whitelist pattern' };
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  // Operator-named relays and overlay networks are connected to as named (system resolver, proxy).
  if (options.trusted || networkOfHost(host) !== 'clearnet') return { ok: true, addresses: [] };
  const enforce = !options.allowPrivate;
  if (enforce && isPrivateHost(host)) return { ok: false, refusal: 'private-address', detail: `${host} is a private, loopback or local address` };
  if (isIP(host)) return { ok: true, addresses: [host] };
  const [v4, v6] = await Promise.allSettled([options.resolver.resolve4(host), options.resolver.resolve6(host)]);
  const addresses = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
  if (addresses.length === 0) {
    const reason = v4.status === 'rejected' ? (v4.reason as NodeJS.ErrnoException).code ?? 'no address' : 'no address';
    return { ok: false, detail: `${host} does not resolve (${reason})` };
  }
  const privateOne = addresses.find((address) => isPrivateAddress(address));
  if (enforce && privateOne) return { ok: false, refusal: 'private-address', detail: `${host} resolves to ${privateOne}` };
  return { ok: true, addresses };
}
