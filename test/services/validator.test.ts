/**
 * The validator against real endpoints on loopback: a test relay (promoted), a closed port and an
 * HTTP server that is not a relay (failing, then retired), private addresses refused unless the
 * operator named them, DNS rebinding (a public-looking name resolving to 127.0.0.1, served by a real
 * DNS server) refused, and the blacklist.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loader.js';
import type { Config } from '../../src/config/schema.js';
import { insertCandidates } from '../../src/db/relays.js';
import { silentLogger } from '../../src/observability/logger.js';
import { metricsRegistry } from '../../src/observability/metrics.js';
import { validateDue } from '../../src/services/validator/validator.js';
import { runCli } from '../support/cli.js';
import { createCliDatabase, createTestDatabase, type TestDatabase } from '../support/database.js';
import { startDnsServer, type DnsServer } from '../support/dns-server.js';
import { startTestRelay, type TestRelay } from '../support/relay/server.js';

let relay: TestRelay;
let http: Server;
let httpPort: number;
let dns: DnsServer;
const databases: TestDatabase[] = [];

beforeAll(async () => {
  relay = await startTestRelay();
  http = createServer((_request, response) => response.end('hello, not a relay'));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  httpPort = (http.address() as { port: number }).port;
  dns = await startDnsServer({ 'relay.rebind.test': ['127.0.0.1'] });
});
afterAll(async () => {
  await relay?.close();
  await new Promise((resolve) => http?.close(resolve));
  await dns?.close();
  for (const database of databases) await database.dispose();
});

function configWith(overrides: Record<string, unknown>): Config {
  return loadConfig({ env: {}, overrides: { 'validator.probe_timeout_ms': 2_000, 'validator.dns_servers': [dns.server], ...overrides } })
    .config;
}

async function states(database: TestDatabase): Promise<Record<string, string>> {
  const { rows } = await database.db.query<{ url: string; state: string }>('SELECT url, state FROM relay ORDER BY url');
  return Object.fromEntries(rows.map((row) => [row.url, row.state]));
}

describe('validator', () => {
  it('promotes what answers like a relay, retries and then retires what does not', async () => {
    const database = await createTestDatabase();
    databases.push(database);
    const dead = 'ws://127.0.0.1:1/';
    const notRelay = `ws://127.0.0.1:${httpPort}/`;
    await insertCandidates(
      database.db,
      [relay.url, dead, notRelay].map((url) => ({ url, network: 'clearnet' as const })),
      'seed',
    );
    const config = configWith({
      'validator.max_attempts': 2,
      'validator.retire_after_seconds': 0,
      'validator.retry_backoff_seconds': 1,
      'validator.retry_backoff_max_seconds': 1,
    });

    const first = await validateDue({ db: database.db, config, logger: silentLogger() });
    expect(first.promoted).toEqual([relay.url]);
    expect(first.failed.map((failure) => failure.url).sort()).toEqual([dead, notRelay].sort());
    expect(first.failed.find((failure) => failure.url === notRelay)?.reason).toMatch(/HTTP 200|WebSocket/);
    expect(first.retired).toEqual([]);
    expect(await states(database)).toEqual({ [relay.url]: 'active', [dead]: 'candidate', [notRelay]: 'candidate' });

    // Not due yet: nothing is probed again before the backoff.
    expect((await validateDue({ db: database.db, config, logger: silentLogger() })).probed).toBe(0);
    await database.db.query('UPDATE relay_validation SET next_attempt_at = now()');
    const second = await validateDue({ db: database.db, config, logger: silentLogger() });
    expect(second.retired.sort()).toEqual([dead, notRelay].sort());
    expect(await states(database)).toEqual({ [relay.url]: 'active', [dead]: 'retired', [notRelay]: 'retired' });
    const { rows } = await database.db.query<{ attempts: number; last_error: string }>(
      'SELECT attempts, last_error FROM relay_validation ORDER BY relay_id',
    );
    expect(rows.every((row) => row.attempts === 2 && row.last_error.length > 0)).toBe(true);
    expect(await metricsRegistry().metrics()).toMatch(/bigbrotr_validator_probes_total\{outcome="promoted"\} [1-9]/);
  });

  it('refuses private addresses from discovered sources, DNS rebinding included, unless allowed; applies the blacklist', async () => {
    const database = await createTestDatabase();
    databases.push(database);
    const port = new URL(relay.url).port;
    const literal = relay.url;
    const rebinding = `ws://relay.rebind.test:${port}/`;
    const unresolvable = `ws://nowhere.rebind.test:${port}/`;
    await insertCandidates(
      database.db,
      [literal, rebinding, unresolvable].map((url) => ({ url, network: 'clearnet' as const })),
      'event',
    );
    const summary = await validateDue({ db: database.db, config: configWith({}), logger: silentLogger() });
    expect(summary.refused.sort((a, b) => a.url.localeCompare(b.url))).toEqual([
      { url: literal, reason: 'private-address' },
      { url: rebinding, reason: 'private-address' },
    ]);
    expect(summary.failed.map((failure) => failure.url)).toEqual([unresolvable]);
    expect(summary.failed[0]?.reason).toMatch(/does not resolve/);
    expect(await states(database)).toEqual({ [literal]: 'retired', [rebinding]: 'retired', [unresolvable]: 'candidate' });
    expect(await metricsRegistry().metrics()).toMatch(/bigbrotr_validator_refused_total\{reason="private-address"\} [1-9]/);

    // With private networks allowed, the same relay is accepted (under a name the blacklist does not match).
    const other = await createTestDatabase();
    databases.push(other);
    await insertCandidates(
      other.db,
      [rebinding, literal].map((url) => ({ url, network: 'clearnet' as const })),
      'event',
    );
    const allowed = await validateDue({
      db: other.db,
      config: configWith({ 'relay_url.allow_private': true, 'relay_url.blacklist': ['127.0.0.1'] }),
      logger: silentLogger(),
    });
    expect(allowed.promoted).toEqual([rebinding]);
    expect(allowed.refused).toEqual([{ url: literal, reason: 'blacklisted' }]);

    // A whitelist admits only what it names.
    const listed = await createTestDatabase();
    databases.push(listed);
    await insertCandidates(
      listed.db,
      [rebinding, literal].map((url) => ({ url, network: 'clearnet' as const })),
      'event',
    );
    const whitelisted = await validateDue({
      db: listed.db,
      config: configWith({ 'relay_url.allow_private': true, 'relay_url.whitelist': ['*.rebind.test'] }),
      logger: silentLogger(),
    });
    expect(whitelisted.promoted).toEqual([rebinding]);
    expect(whitelisted.refused).toEqual([{ url: literal, reason: 'not-whitelisted' }]);
  });

  it('bigbrotr validate --once promotes seeded relays that answer and reports the rest', async () => {
    const database = await createCliDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'bigbrotr-validate-'));
    try {
      const seedFile = join(dir, 'seeds.txt');
      writeFileSync(seedFile, `${relay.url}\nws://127.0.0.1:1/\n`);
      expect((await runCli(['seed', '--file', seedFile], database.env)).code).toBe(0);
      const result = await runCli(['validate', '--once', '--json'], { ...database.env, BIGBROTR_VALIDATOR__PROBE_TIMEOUT_MS: '2000' });
      expect(result.code, result.stderr).toBe(0);
      const summary = JSON.parse(result.stdout) as { probed: number; promoted: string[]; failed: { url: string }[] };
      expect(summary.probed).toBe(2);
      expect(summary.promoted).toEqual([relay.url]);
      expect(summary.failed.map((failure) => failure.url)).toEqual(['ws://127.0.0.1:1/']);
      const stats = JSON.parse((await runCli(['stats', '--json'], database.env)).stdout) as { relays: { byState: Record<string, number> } };
      expect(stats.relays.byState).toEqual({ candidate: 1, active: 1, retired: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await database.dispose();
    }
  });
});
