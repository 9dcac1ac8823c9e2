/**
 * I2P and Lokinet relays, like Tor ones, only through their network's SOCKS5 proxy (a real SOCKS5
 * server on loopback stands in for i2pd's and a Lokinet host's): synchronised and checked through
 * it, and, without a proxy configured, left alone by every service: not due for sync, monitoring,
 * validation (so never retired) or direct scans.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loader.js';
import type { Config } from '../../src/config/schema.js';
import { relaysForDirectScan } from '../../src/db/finder.js';
import { dueRelaysForMonitor } from '../../src/db/relay-checks.js';
import { dueCandidates, promoteCandidate } from '../../src/db/relay-validation.js';
import { getOrCreateRelayIds } from '../../src/db/relays.js';
import { dueRelays } from '../../src/db/sync-schedule.js';
import { silentLogger } from '../../src/observability/logger.js';
import { proxyRoute, reachableNetworks, unreachableNetworks } from '../../src/relay/overlay.js';
import { monitorOnce } from '../../src/services/monitor/monitor.js';
import { syncRelayWithRetries } from '../../src/services/sync/pass-runner.js';
import { createVerifyPool, type VerifyPool } from '../../src/verify/pool.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { generateEvents } from '../support/events.js';
import { startOnionSocksProxy, type OnionSocksProxy } from '../support/onion-socks-proxy.js';
import { startTestRelay, type TestRelay } from '../support/relay/server.js';

const configWith = (overrides: Record<string, unknown> = {}): Config =>
  loadConfig({
    env: {},
    overrides: {
      'relay.connect_timeout_ms': 2_000,
      'monitor.open_timeout_ms': 2_000,
      'monitor.read_timeout_ms': 2_000,
      'monitor.nip11_timeout_ms': 2_000,
      'monitor.write_check': false,
      ...overrides,
    },
  }).config;

describe('routes by network', () => {
  it('sends each overlay network through its own proxy, and names the option a missing one needs', () => {
    const relay = configWith({
      'relay.socks_proxy_url': 'socks5h://127.0.0.1:9050',
      'relay.i2p_proxy_url': 'socks5h://127.0.0.1:4447',
    }).relay;
    expect(proxyRoute('abc.onion', relay)).toEqual({ proxy: 'socks5h://127.0.0.1:9050' });
    expect(proxyRoute('abc.b32.i2p', relay)).toEqual({ proxy: 'socks5h://127.0.0.1:4447' });
    expect(proxyRoute('abc.loki', relay).unreachable).toMatch(/relay\.loki_proxy_url/);
    expect(proxyRoute('relay.example', relay)).toEqual({});
    expect(proxyRoute('relay.example', { ...relay, socks_proxy_for: 'all' })).toEqual({ proxy: 'socks5h://127.0.0.1:9050' });
    expect(reachableNetworks(relay)).toEqual(['clearnet', 'tor', 'i2p']);
    expect(unreachableNetworks(relay)).toEqual([{ network: 'loki', option: 'relay.loki_proxy_url' }]);
  });
});

describe.each([
  { network: 'i2p', suffix: '.i2p', host: 'ukeu3k5oycgaauneqgtnvselmt4yemvoilkln7jpvamvfx7dnkdq.b32.i2p', option: 'relay.i2p_proxy_url' },
  { network: 'loki', suffix: '.loki', host: 'dw68y1xhptqbhcm5s8aaaip6dbopykagig5q5u1za4c7pzxto77y.loki', option: 'relay.loki_proxy_url' },
])('$network relays', ({ network, suffix, host, option }) => {
  let proxy: OnionSocksProxy;
  let relay: TestRelay;
  let pool: VerifyPool;
  const databases: TestDatabase[] = [];
  const events = generateEvents({ count: 120, authors: 3, seed: `overlay-${network}` });

  beforeAll(async () => {
    proxy = await startOnionSocksProxy([suffix]);
    relay = await startTestRelay({ maxLimit: 50 });
    relay.addEvents(events);
    pool = await createVerifyPool({ workers: 1, batchSize: 100 });
  });
  afterAll(async () => {
    await pool?.close();
    await relay?.close();
    await proxy?.close();
    for (const database of databases) await database.dispose();
  });
  const database = async () => {
    const created = await createTestDatabase();
    databases.push(created);
    return created;
  };

  it('are synchronised and checked through their proxy, never directly', async () => {
    const url = `ws://${host}:${relay.port}/`;
    const test = await database();
    const config = configWith({ [option]: proxy.url });
    const id = (await getOrCreateRelayIds(test.db, [{ url, network: network as 'i2p' | 'loki' }], 'cli')).get(url) as number;
    const pass = await syncRelayWithRetries({ db: test.db, relay: { id, url, trusted: true }, config, pool, logger: silentLogger() });
    expect(pass.stored).toBe(events.length);
    expect(pass.report.complete).toBe(true);
    const summary = await monitorOnce({ db: test.db, config, logger: silentLogger(), urls: [url] });
    expect(summary.up).toBe(1);
    const { rows } = await test.db.query<{ check_type: string; ok: boolean }>(
      'SELECT check_type, ok FROM relay_metadata_latest WHERE url = $1 ORDER BY check_type',
      [url],
    );
    expect(rows.filter((row) => row.check_type === 'open' || row.check_type === 'nip11')).toEqual([
      { check_type: 'nip11', ok: true },
      { check_type: 'open', ok: true },
    ]);
    expect(proxy.requests.filter((request) => request === `${host}:${relay.port}`).length).toBeGreaterThanOrEqual(3); // sync, monitor WebSocket, NIP-11
    expect(proxy.requests.every((request) => request.startsWith(host))).toBe(true);
  });

  it('without a proxy, are due for no service (never probed, so never retired) and fail with the option to set when named', async () => {
    const test = await database();
    const active = `ws://${host}:${relay.port}/`;
    const candidate = `wss://other-${host}/`;
    const ids = await getOrCreateRelayIds(
      test.db,
      [
        { url: active, network: network as 'i2p' | 'loki' },
        { url: candidate, network: network as 'i2p' | 'loki' },
      ],
      'finder',
    );
    await promoteCandidate(test.db, ids.get(active) as number);
    const due = async (config: Config) => {
      const networks = reachableNetworks(config.relay);
      return {
        sync: (
          await dueRelays(test.db, {
            intervalSeconds: 60,
            limit: 10,
            service: 'sync',
            priorityUrls: [],
            priorityOnly: false,
            blacklist: [],
            whitelist: [],
            networks,
          })
        ).map((row) => row.url),
        monitor: (await dueRelaysForMonitor(test.db, { intervalSeconds: 60, limit: 10, service: 'monitor', networks })).map(
          (row) => row.url,
        ),
        validate: (await dueCandidates(test.db, { limit: 10, service: 'validator', networks })).map((row) => row.url),
        scan: (await relaysForDirectScan(test.db, 10, networks)).map((row) => row.url),
      };
    };
    expect(await due(configWith())).toEqual({ sync: [], monitor: [], validate: [], scan: [] });
    expect(await due(configWith({ [option]: proxy.url }))).toEqual({
      sync: [active],
      monitor: [active],
      validate: [candidate],
      scan: [active],
    });

    const named = await syncRelayWithRetries({
      db: test.db,
      relay: { id: ids.get(active) as number, url: active, trusted: true },
      config: configWith({ 'sync.retry_attempts': 0 }),
      pool,
      logger: silentLogger(),
    }).catch((error: Error) => error);
    expect(String(named instanceof Error ? named.message : named)).toContain(option);
  });
});
