/**
 * Screening of relay URLs before anything connects to them: black/whitelist, then the outbound
 * address policy (src/relay/address-policy.ts): unless the URL comes from the operator or private
 * networks are allowed, single-label and local names and every non-public address are refused, as
 * literals and after DNS resolution, so that a public name resolving to 127.0.0.1 (DNS rebinding) is
 * refused too. Tor, I2P and Lokinet names are not resolved here.
 */
import { Resolver } from 'node:dns/promises';
import { screenHost } from './address-policy.js';
import type { RelayUrlFilter } from './url-patterns.js';

export type ScreenRefusal = 'blacklisted' | 'not-whitelisted' | 'private-address' | 'local-name';

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
  // Operator-named relays and allow_private lift the address checks (src/relay/address-policy.ts).
  return screenHost(new URL(url).hostname, { trusted: options.trusted || options.allowPrivate, resolver: options.resolver });
}
