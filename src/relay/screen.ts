/**
 * Screening of relay URLs before anything connects to them: black/whitelist, then the outbound
 * address policy (src/relay/address-policy.ts): unless the URL comes from the operator or private
 * networks are allowed, single-label and local names and every non-public address are refused, as
 * literals and after DNS resolution, so that a public name resolving to 127.0.0.1 (DNS rebinding) is
 * refused too. Tor, I2P and Lokinet names are not resolved here.
 */
import { Resolver } from 'node:dns/promises';
import { screenHost, type HostScreen, type PolicyRefusal } from './address-policy.js';
import type { RelayUrlFilter } from './url-patterns.js';

export type ScreenRefusal = 'blacklisted' | 'not-whitelisted' | PolicyRefusal;

/** The outbound policy's answer (src/relay/address-policy.ts), or a refusal by the black/whitelist. */
export type ScreenResult = HostScreen | { ok: false; refusal: 'blacklisted' | 'not-whitelisted'; detail: string };

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
  if (listed)
    return {
      ok: false,
      refusal: listed,
      detail: listed === 'blacklisted' ? 'matches relay_url.blacklist' : 'matches no relay_url.whitelist pattern',
    };
  // Operator-named relays and allow_private lift the address checks (src/relay/address-policy.ts).
  return screenHost(new URL(url).hostname, { trusted: options.trusted || options.allowPrivate, resolver: options.resolver });
}
