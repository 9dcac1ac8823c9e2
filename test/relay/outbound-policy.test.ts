/**
 * One outbound-connection policy for every client: with a real DNS server on loopback resolving
 * public-looking names to 127.0.0.1, and internal services listening there, nothing of ours connects
 * to them unless the operator named the host or allowed private networks: not the synchronizer, not
 * the finder's direct scans, not the monitor's NIP-11 redirects (single-label names included), not
 * an external list's redirects. The validator's share is in test/services/validator.test.ts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loader.js';
import type { Config } from '../../src/config/schema.js';
import { relaysForDirectScan } from '../../src/db/finder.js';
import { getOrCreateRelayIds, setRelayState } from '../../src/db/relays.js';
import { isPublicAddress, screenHost } from '../../src/relay/address-policy.js';
import { RelayPolicyError } from '../../src/relay/errors.js';
import { silentLogger } from '../../src/observability/logger.js';
import { fetchExternalList } from '../../src/services/finder/external-list.js';
import { findFromRelays } from '../../src/services/finder/finder.js';
import { monitorOnce } from '../../src/services/monitor/monitor.js';
import { relayResolver } from '../../src/services/relay-session.js';
import { syncRelayWithRetries } from '../../src/services/sync/pass-runner.js';
import { createVerifyPool, type VerifyPool } from '../../src/verify/pool.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startDnsServer, type DnsServer } from '../support/dns-server.js';
import { startTestRelay, type TestRelay } from '../support/relay/server.js';

let dns: DnsServer;
let internal: Server;
let internalPort: number;
let internalRequests = 0;
let pool: VerifyPool;
const relays: TestRelay[] = [];
const databases: TestDatabase[] = [];

beforeAll(async () => {
  // A name that looks public and resolves to loopback (rebinding), as an attacker's DNS would answer.
  dns = await startDnsServer({ 'internal.policy.test': ['127.0.0.1'], 'relay.policy.test': ['127.0.0.1'] });
  // An internal service that must never be reached (a database, a metadata endpoint).
  internal = createServer((_request, response) => {
    internalRequests += 1;
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"name":"internal secrets"}');
  });
  await new Promise<void>((resolve) => internal.listen(0, '127.0.0.1', resolve));
  internalPort = (internal.address() as AddressInfo).port;
  pool = await createVerifyPool({ workers: 1, batchSize: 100 });
});

afterAll(async () => {
  await pool?.close();
  await Promise.all(relays.map((relay) => relay.close()));
  for (const database of databases) await database.dispose();
  await new Promise<void>((resolve) => internal.close(() => resolve()));
  await dns?.close();
});

function configWith(overrides: Record<string, unknown> = {}): Config {
  return loadConfig({
    env: {},
    overrides: { 'monitor.dns_servers': [dns.server], 'relay.connect_timeout_ms': 2_000, 'sync.retry_attempts': 0, ...overrides },
  }).config;
}

async function relay(options: Parameters<typeof startTestRelay>[0] = {}): Promise<TestRelay> {
  const started = await startTestRelay(options);
  relays.push(started);
  return started;
}

describe('the outbound policy', () => {
  it('classifies addresses with the IP-range tables, transition ranges included', () => {
    for (const address of [
      '64:ff9b::7f00:1',
      '2002:7f00:1::',
      '::127.0.0.1',
      '::ffff:10.0.0.1',
      'fec0::1',
      'fe80::1',
      'fd00::1',
      '100.64.0.1',
      '0.0.0.0',
      '198.18.0.1',
      '::1',
    ]) {
      expect(isPublicAddress(address), address).toBe(false);
    }
    for (const address of ['1.1.1.1', '2606:4700::1111', '::ffff:8.8.8.8']) expect(isPublicAddress(address), address).toBe(true);
  });

  it('refuses single-label and local names before any lookup, and names that resolve to private addresses', async () => {
    const resolver = relayResolver(configWith());
    for (const host of ['db', 'metadata', 'localhost', 'printer.local', 'vault.internal']) {
      expect(await screenHost(host, { trusted: false, resolver }), host).toMatchObject({ ok: false, refusal: 'local-name' });
    }
    expect(await screenHost('internal.policy.test', { trusted: false, resolver })).toMatchObject({ ok: false, refusal: 'private-address' });
    expect(await screenHost('internal.policy.test', { trusted: true, resolver })).toEqual({ ok: true, addresses: ['127.0.0.1'] });
  });
});

/** A relay found in an event (not named by the operator) whose name the loopback DNS server resolves to 127.0.0.1. */
async function discoveredRelay() {
  const target = await relay();
  const url = `ws://relay.policy.test:${target.port}/`;
  const database = await createTestDatabase();
  databases.push(database);
  const ids = await getOrCreateRelayIds(database.db, [{ url, network: 'clearnet' }], 'event:nip65');
  return { target, url, database, ids };
}

describe('every client follows it', () => {
  it('the synchronizer does not contact a discovered relay whose name resolves to loopback', async () => {
    const { target, url, database, ids } = await discoveredRelay();
    const attempt = syncRelayWithRetries({
      db: database.db,
      relay: { id: ids.get(url) as number, url, trusted: false },
      config: configWith(),
      pool,
      logger: silentLogger(),
    });
    await expect(attempt).rejects.toBeInstanceOf(RelayPolicyError);
    expect(target.counters.tcpConnections).toBe(0);
    // Named by the operator, the same relay is synchronised (at the address the configured DNS gave).
    const trusted = await syncRelayWithRetries({
      db: database.db,
      relay: { id: ids.get(url) as number, url, trusted: true },
      config: configWith(),
      pool,
      logger: silentLogger(),
    });
    expect(trusted.report.complete).toBe(true);
    expect(target.counters.connections).toBe(1);
  });

  it("the finder's direct scan does not contact a discovered active relay on a private address", async () => {
    const { target, url, database, ids } = await discoveredRelay();
    await setRelayState(database.db, ids.get(url) as number, 'active');
    expect((await relaysForDirectScan(database.db, 10))[0]?.trusted).toBe(false);
    const summary = await findFromRelays({ db: database.db, config: configWith({ 'sync.negentropy': 'off' }), logger: silentLogger() });
    expect(summary.errors).toEqual([{ source: url, error: expect.stringMatching(/not contacted \(private-address\)/) }]);
    expect(target.counters.tcpConnections).toBe(0);
  });

  it('the monitor follows no NIP-11 redirect to a single-label, local or private host', async () => {
    const database = await createTestDatabase();
    databases.push(database);
    for (const location of [
      `http://db:${internalPort}/`,
      `http://localhost:${internalPort}/`,
      `http://internal.policy.test:${internalPort}/`,
      `http://[::ffff:127.0.0.1]:${internalPort}/`,
    ]) {
      const redirecting = await relay({ misbehaviour: { nip11Mode: 'redirect-to', nip11RedirectTo: location } });
      const before = internalRequests;
      await monitorOnce({
        db: database.db,
        config: configWith({ 'monitor.write_check': false }),
        logger: silentLogger(),
        urls: [redirecting.url],
      });
      const { rows } = await database.db.query<{ ok: boolean; reason: string }>(
        `SELECT c.ok, c.reason FROM relay_metadata_latest c JOIN relay r ON r.id = c.relay_id WHERE r.url = $1 AND c.check_type = 'nip11'`,
        [redirecting.url],
      );
      expect(rows[0], location).toMatchObject({ ok: false, reason: expect.stringMatching(/refused: (local-name|private-address)/) });
      // Nothing reached the internal service, and the reason carries no connection error to probe ports with.
      expect(internalRequests, location).toBe(before);
      expect(rows[0]?.reason).not.toMatch(/ECONNREFUSED|other side closed/);
    }
  });

  it("an external list's redirect to a private host is refused before it is contacted", async () => {
    const list = createServer((_request, response) => {
      response.writeHead(302, { location: `http://internal.policy.test:${internalPort}/relays.json` }).end();
    });
    await new Promise<void>((resolve) => list.listen(0, '127.0.0.1', resolve));
    try {
      const before = internalRequests;
      const listUrl = `http://127.0.0.1:${(list.address() as AddressInfo).port}/relays.json`;
      await expect(
        fetchExternalList(listUrl, { timeoutMs: 2_000, maxBytes: 10_000, allowPrivate: false, resolver: relayResolver(configWith()) }),
      ).rejects.toThrow(/redirect to internal\.policy\.test:\d+ refused: private-address/);
      expect(internalRequests).toBe(before);
    } finally {
      await new Promise<void>((resolve) => list.close(() => resolve()));
    }
  });
});
