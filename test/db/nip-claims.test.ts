/**
 * NIP claims against observations: two real relays claiming NIP-77 in NIP-11, one answering NEG-OPEN
 * and one not, synchronised and monitored for real; the claims read verified / refuted / untested
 * with their evidence, and `/v1/relays?verified_nip=` (through listRelaySummaries) finds only the one
 * seen doing it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loader.js';
import { relayClaims } from '../../src/db/nip-claims.js';
import { listRelaySummaries } from '../../src/db/relay-queries.js';
import { getOrCreateRelayIds, setRelayState } from '../../src/db/relays.js';
import { collectStats } from '../../src/db/stats.js';
import { formatStats } from '../../src/cli/format-stats.js';
import { silentLogger } from '../../src/observability/logger.js';
import { monitorOnce } from '../../src/services/monitor/monitor.js';
import { syncRelayWithRetries } from '../../src/services/sync/pass-runner.js';
import { createVerifyPool, type VerifyPool } from '../../src/verify/pool.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { generateEvents } from '../support/events.js';
import { startTestRelay, type TestRelay } from '../support/relay/server.js';

let test: TestDatabase;
let pool: VerifyPool;
const relays: TestRelay[] = [];
const config = loadConfig({
  env: {},
  overrides: {
    'relay.connect_timeout_ms': 2_000,
    'sync.negentropy_probe_timeout_ms': 1_000,
    'monitor.open_timeout_ms': 2_000,
    'monitor.read_timeout_ms': 2_000,
    'monitor.write_check': false,
  },
}).config;

beforeAll(async () => {
  test = await createTestDatabase();
  pool = await createVerifyPool({ workers: 1, batchSize: 100 });
});
afterAll(async () => {
  await pool?.close();
  for (const relay of relays) await relay.close();
  await test?.dispose();
});

async function observed(options: Parameters<typeof startTestRelay>[0]): Promise<{ id: number; url: string }> {
  const relay = await startTestRelay(options);
  relays.push(relay);
  relay.addEvents(generateEvents({ count: 250, authors: 3, seed: `claims-${relays.length}` }));
  const id = (await getOrCreateRelayIds(test.db, [{ url: relay.url, network: 'clearnet' }], 'cli')).get(relay.url) as number;
  await setRelayState(test.db, id, 'active');
  await syncRelayWithRetries({ db: test.db, relay: { id, url: relay.url, trusted: true }, config, pool, logger: silentLogger() });
  await monitorOnce({ db: test.db, config, logger: silentLogger(), urls: [relay.url] });
  return { id, url: relay.url };
}

describe('NIP claims', () => {
  it('reads verified, refuted and untested claims from what the services saw, with the evidence', async () => {
    const honest = await observed({
      maxLimit: 100,
      defaultLimit: 100,
      nip11: { supported_nips: [1, 11, 42, 45, 77], limitation: { max_limit: 100 } },
    });
    const boastful = await observed({
      maxLimit: 100,
      defaultLimit: 100,
      negentropy: false,
      nip11: { supported_nips: [1, 11, 77], limitation: { max_limit: 100 } },
    });

    const honestClaims = await relayClaims(test.db, honest.id);
    expect(honestClaims.find((claim) => claim.subject === '77')).toMatchObject({
      claimed: true,
      status: 'verified',
      evidence: expect.stringContaining('NEG-OPEN'),
    });
    expect(honestClaims.find((claim) => claim.subject === '42')).toMatchObject({ claimed: true, status: 'untested' });
    expect(honestClaims.find((claim) => claim.subject === 'limitation.max_limit')).toMatchObject({
      claimed: true,
      status: 'untested',
      observed_at: null,
    });
    for (const claim of honestClaims) if (claim.status !== 'untested') expect(claim.observed_at).toMatch(/^\d{4}-\d\d-\d\dT/);

    const boastfulClaims = await relayClaims(test.db, boastful.id);
    expect(boastfulClaims.find((claim) => claim.subject === '77')).toMatchObject({
      claimed: true,
      status: 'refuted',
      evidence: expect.stringContaining('did not answer NEG-OPEN'),
    });
    expect(boastfulClaims.some((claim) => claim.subject === '45')).toBe(false); // neither claimed nor seen
    // Paged with REQ: its answers stopped at exactly the max_limit it claims.
    expect(boastfulClaims.find((claim) => claim.subject === 'limitation.max_limit')).toMatchObject({
      claimed: true,
      status: 'verified',
      evidence: 'answers were capped at exactly 100',
    });

    const verified77 = await listRelaySummaries(test.db, { verifiedNip: 77, limit: 10 });
    expect(verified77.map((relay) => relay.url)).toEqual([honest.url]);
    const claimed77 = await listRelaySummaries(test.db, { nip: 77, limit: 10 });
    expect(claimed77.map((relay) => relay.url).sort()).toEqual([honest.url, boastful.url].sort());

    // bigbrotr stats: how many claims hold.
    const stats = await collectStats(test.db);
    expect(stats.claims['77']).toEqual({ claimed: 2, verified: 1, refuted: 1 });
    expect(stats.claims['42']).toEqual({ claimed: 1, verified: 0, refuted: 0 });
    expect(formatStats('test', stats).find((line) => line.startsWith('claims that hold:'))).toContain('NIP-77 1 of 2 claiming (1 refuted)');
  });
});
