/**
 * HTTP for the monitor's NIP-11 fetches: undici agents that keep connections alive between requests
 * to one origin (many relays share a host), one connecting directly to the addresses the DNS check
 * screened (no second resolution a rebinding name could exploit), one per SOCKS5 proxy for the hosts
 * of overlay networks (`.onion`, `.i2p`, `.loki`; every host through `relay.socks_proxy_url` when
 * `relay.socks_proxy_for` is `all`), as src/relay/overlay.ts routes them.
 */
import { lookup as systemLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { connect as tlsConnect, rootCertificates } from 'node:tls';
import { readFileSync } from 'node:fs';
import { Agent, type Dispatcher, type buildConnector } from 'undici';
import { SocksClient } from 'socks';
import type { RelayClientConfig } from '../../config/schema.js';
import { pinnedLookup } from '../../relay/address-policy.js';
import { proxyRoute } from '../../relay/overlay.js';
import { errorMessage } from '../../error-message.js';

export interface MonitorHttp {
  /** The dispatcher for a request to `host` (proxy or direct); throws when its network has no proxy. */
  dispatcherFor(host: string): Dispatcher;
  /** Connect to these addresses when a request goes to `host` (set before fetching). */
  pin(host: string, addresses: string[]): void;
  unpin(host: string): void;
  /** Closes every pooled connection. */
  close(): Promise<void>;
}

/** Trusted CAs: the system's plus those of `caFile` (a private CA, tests). */
export function trustedCas(caFile: string | undefined): string[] | undefined {
  if (!caFile) return undefined;
  try {
    return [...rootCertificates, readFileSync(caFile, 'utf8')];
  } catch (error) {
    throw new Error(`monitor.tls_ca_file: cannot read ${caFile}: ${errorMessage(error)}`, { cause: error });
  }
}

function socksConnector(proxyUrl: string, ca: string[] | undefined, timeoutMs: number): buildConnector.connector {
  const proxy = new URL(proxyUrl);
  return (options, callback) => {
    const port = Number(options.port) || (options.protocol === 'https:' ? 443 : 80);
    SocksClient.createConnection({
      proxy: {
        host: proxy.hostname,
        port: Number(proxy.port) || 1080,
        type: 5,
        ...(proxy.username ? { userId: decodeURIComponent(proxy.username), password: decodeURIComponent(proxy.password) } : {}),
      },
      command: 'connect',
      destination: { host: options.hostname, port },
      timeout: timeoutMs,
    }).then(
      ({ socket }) => {
        if (options.protocol !== 'https:') return callback(null, socket);
        const secure = tlsConnect({
          socket,
          servername: isIP(options.hostname) ? undefined : options.hostname,
          ca,
          ALPNProtocols: ['http/1.1'],
        });
        secure.once('secureConnect', () => callback(null, secure));
        secure.once('error', (error) => callback(error, null));
      },
      (error: Error) => callback(error, null),
    );
  };
}

export function createMonitorHttp(relay: RelayClientConfig, options: { caFile?: string; connectTimeoutMs: number }): MonitorHttp {
  const ca = trustedCas(options.caFile);
  const pinned = new Map<string, string[]>();
  const lookup = (
    hostname: string,
    lookupOptions: { all?: boolean },
    callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ) => {
    const addresses = pinned.get(hostname);
    if (!addresses || addresses.length === 0) {
      systemLookup(hostname, { all: true }, (error, found) => {
        if (error) return callback(error, []);
        if (lookupOptions.all) callback(null, found);
        else callback(null, found[0]?.address ?? '', found[0]?.family);
      });
      return;
    }
    pinnedLookup(addresses)(hostname, lookupOptions, callback as (...args: unknown[]) => void);
  };
  const common = {
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 60_000,
    connections: 4,
    headersTimeout: options.connectTimeoutMs,
    bodyTimeout: options.connectTimeoutMs,
  };
  const direct = new Agent({ ...common, connect: { ca, lookup, timeout: options.connectTimeoutMs } as never });
  const proxied = new Map<string, Agent>();
  return {
    dispatcherFor(host) {
      const route = proxyRoute(host, relay);
      if (route.unreachable !== undefined) throw new Error(route.unreachable);
      if (route.proxy === undefined) return direct;
      let agent = proxied.get(route.proxy);
      if (!agent) {
        agent = new Agent({ ...common, connect: socksConnector(route.proxy, ca, options.connectTimeoutMs) });
        proxied.set(route.proxy, agent);
      }
      return agent;
    },
    pin(host, addresses) {
      pinned.set(host, addresses);
    },
    unpin(host) {
      pinned.delete(host);
    },
    async close() {
      await Promise.all([direct.close(), ...[...proxied.values()].map((agent) => agent.close())]);
    },
  };
}
