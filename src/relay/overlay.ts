/**
 * Which way a relay is reached: Tor (`.onion`), I2P (`.i2p`) and Lokinet (`.loki`) names only through
 * their network's SOCKS5 proxy (`relay.socks_proxy_url`, `relay.i2p_proxy_url`,
 * `relay.loki_proxy_url`); every other host directly, or through `relay.socks_proxy_url` when
 * `relay.socks_proxy_for` is `all`. A relay whose network has no proxy configured is unreachable from
 * here: services leave it alone (never counted as down, never retired) and say why.
 */
import type { RelayClientConfig } from '../config/schema.js';
import { networkOfHost, type RelayNetwork } from '../nostr/relay-url.js';

export type ProxyRoute = { proxy?: string; unreachable?: undefined } | { proxy?: undefined; unreachable: string };

const PROXY_OPTION: Record<Exclude<RelayNetwork, 'clearnet'>, { option: keyof RelayClientConfig; hint: string }> = {
  tor: { option: 'socks_proxy_url', hint: 'a SOCKS5 proxy such as Tor' },
  i2p: { option: 'i2p_proxy_url', hint: 'the SOCKS5 proxy of an I2P router, e.g. i2pd on port 4447' },
  loki: { option: 'loki_proxy_url', hint: 'a SOCKS5 proxy on a host connected to Lokinet' },
};

function overlayProxy(network: Exclude<RelayNetwork, 'clearnet'>, relay: RelayClientConfig): string | undefined {
  const value = relay[PROXY_OPTION[network].option];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** How to reach a host: the proxy to go through (none: directly), or why it cannot be reached. */
export function proxyRoute(host: string, relay: RelayClientConfig): ProxyRoute {
  const network = networkOfHost(host.replace(/\.$/, '').toLowerCase());
  if (network === 'clearnet') return relay.socks_proxy_url && relay.socks_proxy_for === 'all' ? { proxy: relay.socks_proxy_url } : {};
  const proxy = overlayProxy(network, relay);
  if (proxy) return { proxy };
  const { option, hint } = PROXY_OPTION[network];
  return { unreachable: `${network} relay needs relay.${option} (${hint})` };
}

/** The networks this configuration can reach (clearnet always). */
export function reachableNetworks(relay: RelayClientConfig): RelayNetwork[] {
  return ['clearnet', ...(['tor', 'i2p', 'loki'] as const).filter((network) => overlayProxy(network, relay) !== undefined)];
}

/** The networks left alone for want of a proxy, each with the option that would reach it. */
export function unreachableNetworks(relay: RelayClientConfig): { network: RelayNetwork; option: string }[] {
  return (['tor', 'i2p', 'loki'] as const)
    .filter((network) => overlayProxy(network, relay) === undefined)
    .map((network) => ({ network, option: `relay.${PROXY_OPTION[network].option}` }));
}
