/**
 * The monitor against real endpoints on loopback: test relays (healthy, misbehaving, requiring AUTH
 * or payment, refusing writes), a wss relay with a certificate from a private CA and one with a
 * self-signed certificate, a real DNS server, a MaxMind-format database, a dead port. Every check's
 * success and failure path is stored and read back through the views.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loader.js';
import type { Config } from '../../src/config/schema.js';
import { insertCandidates } from '../../src/db/relays.js';
import { generateSecretKey } from '../../src/nostr/sign.js';
import { silentLogger } from '../../src/observability/logger.js';
import { metricsRegistry } from '../../src/observability/metrics.js';
import { createMonitorState, monitorOnce } from '../../src/services/monitor/monitor.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startDnsServer, type DnsServer } from '../support/dns-server.js';
import { mmdbUint16, mmdbUint32, writeMmdb } from '../support/mmdb-writer.js';
import { startTestRelay, type TestRelay } from '../support/relay/server.js';
import { makeTestCertificates, type TestCertificates } from '../support/tls-certificates.js';

let dns: DnsServer;
let certificates: TestCertificates;
let geoDir: string;
let geoPath: string;
const relays: TestRelay[] = [];
const databases: TestDatabase[] = [];

beforeAll(async () => {
  dns = await startDnsServer({ 'relay.monitor.test': ['127.0.0.1'], localhost: ['127.0.0.1'] });
  certificates = makeTestCertificates();
  geoDir = mkdtempSync(join(tmpdir(), 'bigbrotr-monitor-geo-'));
  geoPath = join(geoDir, 'geo.mmdb');
  const record = {
    country: { iso_code: 'DE', names: { en: 'Germany' } },
    city: { names: { en: 'Berlin' } },
    continent: { code: 'EU' },
    location: { latitude: 52.52, longitude: 13.405, accuracy_radius: mmdbUint16(10) },
    autonomous_system_number: mmdbUint32(64500),
    autonomous_system_organization: 'Example Net',
  };
  writeFileSync(geoPath, writeMmdb([{ network: '127.0.0.0/8', data: record }], { databaseType: 'GeoLite2-City' }));
});
afterAll(async () => {
  for (const relay of relays) await relay.close();
  for (const database of databases) await database.dispose();
  await dns?.close();
  certificates?.cleanup();
  if (geoDir) rmSync(geoDir, { recursive: true, force: true });
});

async function relay(options: Parameters<typeof startTestRelay>[0] = {}): Promise<TestRelay> {
  const started = await startTestRelay(options);
  relays.push(started);
  return started;
}

async function database(): Promise<TestDatabase> {
  const created = await createTestDatabase();
  databases.push(created);
  return created;
}

function configWith(overrides: Record<string, unknown> = {}): Config {
  return loadConfig({
    env: {},
    overrides: {
      'monitor.open_timeout_ms': 2_000,
      'monitor.read_timeout_ms': 2_000,
      'monitor.write_timeout_ms': 2_000,
      'monitor.nip11_timeout_ms': 2_000,
      'monitor.tls_timeout_ms': 2_000,
      'monitor.dns_timeout_ms': 2_000,
      'monitor.dns_servers': [dns.server],
      ...overrides,
    },
  }).config;
}

interface CheckRow {
  check_type: string;
  ok: boolean;
  rtt_ms: number | null;
  reason: string | null;
  data: Record<string, unknown> | null;
  detail: Record<string, unknown> | null;
}

async function latest(test: TestDatabase, url: string): Promise<Record<string, CheckRow>> {
  const { rows } = await test.db.query<CheckRow>(
    'SELECT check_type, ok, rtt_ms, reason, data, detail FROM relay_metadata_latest WHERE url = $1',
    [url],
  );
  return Object.fromEntries(rows.map((row) => [row.check_type, row]));
}

describe('monitor checks', () => {
  it('checks a healthy relay: NIP-11, open/read/write round trips, geo, requirements; identical documents stored once', async () => {
    const healthy = await relay({ nip11: { relay_countries: ['DE'], language_tags: ['en', 'de-DE'], tags: ['sfw'] } });
    const test = await database();
    const config = configWith({ 'monitor.geoip_city_database': geoPath, 'monitor.geoip_asn_database': geoPath });
    const summary = await monitorOnce({ db: test.db, config, logger: silentLogger(), urls: [healthy.url] });
    expect(summary).toMatchObject({ checked: 1, up: 1, down: 0 });

    const checks = await latest(test, healthy.url);
    expect(Object.keys(checks).sort()).toEqual(['claims', 'geo', 'nip11', 'open', 'read', 'requirements', 'write']); // no dns for an IP, no ssl for ws://; claims: the test relay claims max_subscriptions
    expect(checks.nip11).toMatchObject({ ok: true, data: { name: 'bigbrotr test relay', supported_nips: [1, 11, 42, 45, 77] } });
    for (const type of ['open', 'read', 'write'] as const) {
      expect(checks[type]?.ok, type).toBe(true);
      expect(checks[type]?.rtt_ms, type).toBeGreaterThanOrEqual(0);
    }
    expect(checks.read?.detail).toEqual({ answer: 'eose' });
    expect(checks.write?.detail).toEqual({ answered: true, accepted: true });
    expect(healthy.store.query({ kinds: [20_166] }, 10)).toEqual([]); // ephemeral: the relay did not keep it
    expect(healthy.counters.eventsReceived).toBe(1);
    expect(checks.geo).toMatchObject({
      ok: true,
      data: { country: 'DE', city: 'Berlin', asn: 64500, as_org: 'Example Net', geohash: 'u33dc0cpp' },
      detail: { ip: '127.0.0.1' },
    });
    expect(checks.requirements).toMatchObject({ ok: true, data: { auth: false, payment: false, writes: false, pow: false } });

    // A second pass: new check rows, the same documents (content-addressed).
    const documents = Number((await test.db.query<{ n: string }>('SELECT count(*) AS n FROM metadata')).rows[0]?.n);
    await monitorOnce({ db: test.db, config, logger: silentLogger(), urls: [healthy.url] });
    expect(Number((await test.db.query<{ n: string }>('SELECT count(*) AS n FROM metadata')).rows[0]?.n)).toBe(documents);
    const perType = await test.db.query<{ check_type: string; n: string }>(
      'SELECT check_type, count(*) AS n FROM relay_check GROUP BY check_type',
    );
    // Every check twice, except the claim probe: it is due again only after monitor.claim_probe_interval_seconds.
    expect(Object.fromEntries(perType.rows.map((row) => [row.check_type, Number(row.n)]))).toEqual({
      claims: 1,
      geo: 2,
      nip11: 2,
      open: 2,
      read: 2,
      requirements: 2,
      write: 2,
    });

    const { rows: uptime } = await test.db.query<{
      last_ok: boolean;
      availability_24h: string;
      checks_30d: string;
      median_rtt_read_7d_ms: number | null;
      median_rtt_write_7d_ms: number | null;
    }>('SELECT last_ok, availability_24h, checks_30d, median_rtt_read_7d_ms, median_rtt_write_7d_ms FROM relay_uptime WHERE url = $1', [
      healthy.url,
    ]);
    expect(uptime[0]).toMatchObject({ last_ok: true, checks_30d: expect.anything() });
    expect(Number(uptime[0]?.availability_24h)).toBe(1);
    expect(Number(uptime[0]?.checks_30d)).toBe(2);
    expect(uptime[0]?.median_rtt_read_7d_ms).not.toBeNull();
    expect(uptime[0]?.median_rtt_write_7d_ms).not.toBeNull();

    const metrics = await metricsRegistry().metrics();
    expect(metrics).toMatch(/bigbrotr_monitor_checks_total\{check="nip11",outcome="ok"\} [1-9]/);
    expect(metrics).toMatch(/bigbrotr_monitor_check_duration_seconds_count\{check="open"\} [1-9]/);
    expect(metrics).toMatch(/bigbrotr_monitor_relays\{status="up"\} [1-9]/);
  });

  it('reuses HTTP connections for NIP-11 documents of relays on one host', async () => {
    const shared = await relay();
    const test = await database();
    const paths = ['a', 'b', 'c'].map((path) => `${shared.url}${path}`);
    const summary = await monitorOnce({
      db: test.db,
      config: configWith({ 'monitor.concurrency': 1, 'monitor.claim_probes': false }),
      logger: silentLogger(),
      urls: paths,
    });
    expect(summary).toMatchObject({ checked: 3, up: 3 });
    for (const url of paths) expect((await latest(test, url)).nip11?.ok, url).toBe(true);
    // Three WebSocket connections, and one kept-alive HTTP connection for the three documents (not three).
    expect(shared.counters.connections).toBe(3);
    expect(shared.counters.tcpConnections).toBe(4);
  });

  it('records each failure with its reason: dead port, hanging handshake, no EOSE, no OK, bad NIP-11 documents', async () => {
    const test = await database();
    const hanging = await relay({ misbehaviour: { hangHandshake: true } });
    const silent = await relay({ misbehaviour: { neverEose: true, noOk: true } });
    const html = await relay({ misbehaviour: { nip11Mode: 'html' } });
    const huge = await relay({ misbehaviour: { nip11Mode: 'huge' } });
    const missing = await relay({ misbehaviour: { nip11Mode: 'missing' } });
    const loop = await relay({ misbehaviour: { nip11Mode: 'redirect-loop' } });
    const moved = await relay({ misbehaviour: { nip11Mode: 'redirect' } });
    const wrongTypes = await relay({ misbehaviour: { nip11Mode: 'wrong-types' } });
    const dead = 'ws://127.0.0.1:1/';
    const config = configWith({ 'monitor.nip11_max_redirects': 2 });
    const urls = [dead, hanging.url, silent.url, html.url, huge.url, missing.url, loop.url, moved.url, wrongTypes.url];
    const summary = await monitorOnce({ db: test.db, config, logger: silentLogger(), urls });
    expect(summary.checked).toBe(urls.length);
    expect(summary.down).toBe(2);

    const deadChecks = await latest(test, dead);
    expect(deadChecks.open).toMatchObject({ ok: false, reason: expect.stringMatching(/ECONNREFUSED/) });
    expect(deadChecks.nip11).toMatchObject({ ok: false, reason: expect.stringMatching(/ECONNREFUSED/) });
    expect(deadChecks.read).toBeUndefined();
    expect(deadChecks.requirements).toBeUndefined();

    expect((await latest(test, hanging.url)).open).toMatchObject({ ok: false, reason: expect.stringMatching(/timed out|2000 ms/) });

    const silentChecks = await latest(test, silent.url);
    expect(silentChecks.open?.ok).toBe(true);
    expect(silentChecks.read).toMatchObject({ ok: false, reason: 'no answer to REQ within 2000 ms', detail: { answer: 'none' } });
    expect(silentChecks.write).toMatchObject({ ok: false, detail: { answered: false }, reason: expect.stringMatching(/timed out|2000/) });

    expect((await latest(test, html.url)).nip11).toMatchObject({ ok: false, reason: 'HTML instead of a JSON document' });
    expect((await latest(test, huge.url)).nip11).toMatchObject({ ok: false, reason: expect.stringMatching(/larger than 262144 bytes/) });
    expect((await latest(test, missing.url)).nip11).toMatchObject({ ok: false, reason: 'HTTP 404' });
    expect((await latest(test, loop.url)).nip11).toMatchObject({ ok: false, reason: 'more than 2 redirects' });
    expect((await latest(test, moved.url)).nip11).toMatchObject({ ok: true, detail: { final_url: `${moved.httpUrl}moved` } });
    const tolerant = (await latest(test, wrongTypes.url)).nip11;
    expect(tolerant?.ok).toBe(true);
    expect(tolerant?.data).toMatchObject({ name: 7, supported_nips: ['1', 'eleven', 42] }); // stored as served
    expect((tolerant?.detail?.dropped as string[]).join('\n')).toMatch(/supported_nips/);
  });

  it('derives requirements from replies: auth-required answered with NIP-42 AUTH, paid and restricted writes, proof of work', async () => {
    const test = await database();
    const authRelay = await relay({ authRequired: true });
    const paid = await relay({
      misbehaviour: { refuseWrites: 'restricted: this is a paid relay, pay the invoice at https://pay.example' },
    });
    const pow = await relay({
      misbehaviour: { refuseWrites: 'pow: difficulty 28 required' },
      nip11: { limitation: { min_pow_difficulty: 28 } },
    });
    const writeAuth = await relay({ misbehaviour: { authRequiredForWrites: true } });

    // Without a key: the refusal is final and recorded.
    await monitorOnce({
      db: test.db,
      config: configWith(),
      logger: silentLogger(),
      urls: [authRelay.url, paid.url, pow.url, writeAuth.url],
    });
    const refused = await latest(test, authRelay.url);
    // A refused REQ is a policy answer from a relay that is up: the read round trip counts, the refusal is kept.
    expect(refused.read).toMatchObject({
      ok: true,
      reason: expect.stringMatching(/^auth-required:/),
      detail: { answer: 'closed', refused: true, prefix: 'auth-required' },
    });
    expect(refused.requirements).toMatchObject({
      data: { auth: true },
      detail: { sources: { auth: 'reply' }, challenged: true, authenticated: false },
    });

    const paidChecks = await latest(test, paid.url);
    expect(paidChecks.write).toMatchObject({
      ok: false,
      detail: { answered: true, accepted: false, prefix: 'restricted' },
      reason: expect.stringMatching(/^restricted: this is a paid relay/),
    });
    expect(paidChecks.requirements?.data).toEqual({ auth: false, payment: true, writes: true, pow: false });
    expect((await latest(test, pow.url)).requirements?.data).toEqual({ auth: false, payment: false, writes: true, pow: true });
    expect((await latest(test, writeAuth.url)).write).toMatchObject({ ok: false, detail: { prefix: 'auth-required' } });

    // With a key: AUTH is answered and the request retried.
    const keyed = configWith({ 'identity.secret_key': generateSecretKey() });
    await monitorOnce({ db: test.db, config: keyed, logger: silentLogger(), urls: [authRelay.url, writeAuth.url] });
    const authed = await latest(test, authRelay.url);
    expect(authed.read).toMatchObject({ ok: true, detail: { authenticated: true } });
    expect(authed.requirements).toMatchObject({ data: { auth: true }, detail: { authenticated: true } });
    expect((await latest(test, writeAuth.url)).write).toMatchObject({ ok: true, detail: { accepted: true, authenticated: true } });
    expect(authRelay.counters.auths).toBe(1);
  });

  it('checks DNS and TLS of wss relays: a certificate from a trusted CA, a self-signed one, a name that does not resolve', async () => {
    const test = await database();
    const trusted = await relay({ tls: certificates.signed, urlHost: 'relay.monitor.test' });
    const selfSigned = await relay({ tls: certificates.selfSigned, urlHost: 'localhost' });
    const unknown = 'wss://nowhere.monitor.test/';
    const config = configWith({ 'monitor.tls_ca_file': certificates.caFile });
    const summary = await monitorOnce({ db: test.db, config, logger: silentLogger(), urls: [trusted.url, selfSigned.url, unknown] });
    expect(summary).toMatchObject({ checked: 3, up: 1, down: 2 }); // the self-signed relay does not open either

    const good = await latest(test, trusted.url);
    expect(good.dns).toMatchObject({ ok: true, data: { a: ['127.0.0.1'], aaaa: [] }, detail: { ttl_a: 60 } });
    expect(good.ssl).toMatchObject({
      ok: true,
      data: { subject: 'localhost', issuer: 'bigbrotr test CA', issuer_organization: 'bigbrotr tests' },
    });
    expect(good.ssl?.data?.subject_alt_names).toContain('DNS:relay.monitor.test');
    expect(good.ssl?.detail?.days_to_expiry).toBeGreaterThanOrEqual(28);
    expect(good.ssl?.detail?.days_to_expiry).toBeLessThanOrEqual(30);
    expect(good.open?.ok).toBe(true); // wss through the private CA
    expect(good.nip11).toMatchObject({ ok: true, data: { name: 'bigbrotr test relay' } }); // https through the private CA

    const bad = await latest(test, selfSigned.url);
    expect(bad.ssl).toMatchObject({ ok: false, reason: 'DEPTH_ZERO_SELF_SIGNED_CERT', data: { subject: 'localhost' } });
    expect(bad.open).toMatchObject({ ok: false, reason: expect.stringMatching(/self-signed/) });

    const nowhere = await latest(test, unknown);
    expect(nowhere.dns).toMatchObject({ ok: false, reason: expect.stringMatching(/nowhere\.monitor\.test does not resolve/) });
    expect(nowhere.open).toMatchObject({ ok: false, reason: expect.stringMatching(/^dns:/) });
    expect(nowhere.nip11).toBeUndefined();
  });

  it('refuses relays from discovered sources that resolve to private addresses, and redirects of NIP-11 to private addresses', async () => {
    const test = await database();
    const target = await relay({ urlHost: 'relay.monitor.test' });
    const redirecting = await relay({ misbehaviour: { nip11Mode: 'redirect-private' } });
    await insertCandidates(test.db, [{ url: target.url, network: 'clearnet' }], 'event');
    await test.db.query(`UPDATE relay SET state = 'active'`);
    const state = createMonitorState();
    const refusal = await monitorOnce({ db: test.db, config: configWith(), logger: silentLogger(), state });
    expect(refusal.skipped).toEqual([{ url: target.url, reason: 'private-address: relay.monitor.test resolves to 127.0.0.1' }]);
    expect(await latest(test, target.url)).toEqual({}); // a policy refusal is not the relay's health: nothing stored
    expect(target.counters.connections).toBe(0);
    // Not asked again within the interval.
    expect((await monitorOnce({ db: test.db, config: configWith(), logger: silentLogger(), state })).skipped).toEqual([]);
    expect((await monitorOnce({ db: test.db, config: configWith(), logger: silentLogger() })).skipped).toHaveLength(1); // a new service asks again

    // The operator's own relay may be private, but a redirect elsewhere to a private address is refused before any connection.
    await monitorOnce({ db: test.db, config: configWith(), logger: silentLogger(), urls: [redirecting.url] });
    expect((await latest(test, redirecting.url)).nip11).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^redirect to 10\.255\.255\.1 refused: private-address/),
    });
    // relay_url.allow_private: the redirect is followed (whatever answers there, it is not refused).
    await monitorOnce({
      db: test.db,
      config: configWith({ 'relay_url.allow_private': true }),
      logger: silentLogger(),
      urls: [redirecting.url],
    });
    expect((await latest(test, redirecting.url)).nip11?.reason).not.toMatch(/refused/);
  });
});
