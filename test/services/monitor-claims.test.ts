/**
 * The monitor's claim probes against two relays that claim the same in NIP-11: one does what it
 * claims (search, expiration, deletion, protected events, its limits), the other ignores all of it.
 * Every claim of the first must come out verified and every claim of the second refuted, from what
 * each relay did; without writes the write-only claims stay untested.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loader.js';
import type { Config } from '../../src/config/schema.js';
import { claimCounts, relayClaims, type NipClaim } from '../../src/db/nip-claims.js';
import { listRelaySummaries } from '../../src/db/relay-queries.js';
import type { NostrEvent } from '../../src/nostr/event.js';
import { generateSecretKey, getPublicKey, signEvent } from '../../src/nostr/sign.js';
import { silentLogger } from '../../src/observability/logger.js';
import { monitorOnce } from '../../src/services/monitor/monitor.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTestRelay, type TestRelay } from '../support/relay/server.js';

const relays: TestRelay[] = [];
const databases: TestDatabase[] = [];
afterAll(async () => {
  for (const relay of relays) await relay.close();
  for (const database of databases) await database.dispose();
});

const YEAR = 365 * 86_400;
const CLAIMS = {
  supported_nips: [1, 9, 11, 40, 50, 70],
  limitation: {
    max_subscriptions: 4,
    created_at_lower_limit: YEAR,
    created_at_upper_limit: 900,
    max_content_length: 2_000,
    max_event_tags: 40,
  },
};

async function relay(options: Parameters<typeof startTestRelay>[0]): Promise<TestRelay> {
  const started = await startTestRelay({ nip11: CLAIMS, ...options });
  relays.push(started);
  // Some notes to search among, and (for the relay that keeps them) one that expired an hour ago.
  const key = generateSecretKey();
  const now = Math.floor(Date.now() / 1000);
  for (let index = 0; index < 5; index += 1)
    started.store.add(
      signEvent({ kind: 1, content: `a note about relays, number ${index}`, tags: [], created_at: now - 100 + index }, key),
    );
  started.store.add(signEvent({ kind: 1, content: 'gone', tags: [['expiration', String(now - 3_600)]], created_at: now - 7_200 }, key));
  return started;
}

function configWith(overrides: Record<string, unknown>): Config {
  return loadConfig({
    env: {},
    overrides: {
      'monitor.claim_probe_pace_ms': 0,
      'monitor.claim_probe_timeout_ms': 3_000,
      'monitor.open_timeout_ms': 3_000,
      'monitor.read_timeout_ms': 3_000,
      'monitor.write_timeout_ms': 3_000,
      ...overrides,
    },
  }).config;
}

const bySubject = (claims: NipClaim[]) =>
  Object.fromEntries(
    claims.filter((claim) => claim.observed_at !== null || claim.status !== 'untested').map((claim) => [claim.subject, claim.status]),
  );

async function relayId(database: TestDatabase, url: string): Promise<number> {
  const { rows } = await database.db.query<{ id: number }>('SELECT id FROM relay WHERE url = $1', [url]);
  return rows[0]?.id as number;
}

describe('claim probes', () => {
  it('verifies the claims of a relay that keeps them and refutes those of one that does not, with evidence, and says so in 30166', async () => {
    const honest = await relay({
      maxSubscriptions: 4,
      enforces: {
        search: true,
        expiration: true,
        deletion: true,
        protectedEvents: true,
        createdAtLowerLimit: YEAR,
        createdAtUpperLimit: 900,
        maxContentLength: 2_000,
        maxEventTags: 40,
      },
    });
    const liar = await relay({ maxSubscriptions: 20 });
    const target = await startTestRelay();
    relays.push(target);
    const database = await createTestDatabase();
    databases.push(database);
    const secretKey = generateSecretKey();
    const config = configWith({
      'monitor.claim_probe_writes': true,
      'identity.secret_key': secretKey,
      'monitor.publish': true,
      'monitor.publish_relays': [target.url],
    });
    await monitorOnce({ db: database.db, config, logger: silentLogger(), urls: [honest.url, liar.url] });

    const honestClaims = await relayClaims(database.db, await relayId(database, honest.url));
    const liarClaims = await relayClaims(database.db, await relayId(database, liar.url));
    const probed = [
      '50',
      '40',
      '9',
      '70',
      'limitation.max_subscriptions',
      'limitation.created_at_lower_limit',
      'limitation.created_at_upper_limit',
      'limitation.max_content_length',
      'limitation.max_event_tags',
    ];
    const honestStatus = bySubject(honestClaims);
    const liarStatus = bySubject(liarClaims);
    for (const subject of probed) {
      expect(
        honestStatus[subject],
        `${subject} on the relay that keeps its claims: ${JSON.stringify(honestClaims.find((claim) => claim.subject === subject))}`,
      ).toBe('verified');
      expect(
        liarStatus[subject],
        `${subject} on the relay that ignores them: ${JSON.stringify(liarClaims.find((claim) => claim.subject === subject))}`,
      ).toBe('refuted');
    }
    const evidence = (claims: NipClaim[], subject: string) => claims.find((claim) => claim.subject === subject)?.evidence ?? '';
    expect(evidence(liarClaims, '50')).toMatch(/unrelated event/);
    expect(evidence(liarClaims, '40')).toMatch(/expiration .* had passed/);
    expect(evidence(honestClaims, '70')).toMatch(/auth-required/);
    expect(evidence(liarClaims, 'limitation.max_subscriptions')).toBe('held 5 subscriptions open at once (claims 4)');
    expect(evidence(honestClaims, '50')).toMatch(/found \d event/);

    // The probes clean up after themselves where deletion works: no probe note is left on the honest relay.
    const probeKey = getPublicKey(secretKey);
    expect(honest.store.query({ authors: [probeKey], kinds: [1] }, 100)).toEqual([]);

    // The relay list filter, the stats and the published reports use the same findings.
    const verified50 = await listRelaySummaries(database.db, { verifiedNip: 50, limit: 10 });
    expect(verified50.map((summary) => summary.url)).toEqual([honest.url]);
    const counts = await claimCounts(database.db);
    expect(counts['70']).toEqual({ claimed: 2, verified: 1, refuted: 1 });
    const reports = target.store.query({ authors: [probeKey], kinds: [30166] }, 10) as NostrEvent[];
    const claimTags = (url: string) =>
      reports.find((report) => report.tags.some((tag) => tag[0] === 'd' && tag[1] === url))?.tags.filter((tag) => tag[0] === 'claim');
    expect(claimTags(honest.url)).toContainEqual(['claim', '50', 'verified']);
    expect(claimTags(liar.url)).toContainEqual(['claim', '9', 'refuted']);
    expect(claimTags(liar.url)?.some((tag) => tag[2] === 'untested')).toBe(false);
  });

  it('by default (write check on, probe writes off): read probes only, write-only claims stay untested and the probes publish nothing', async () => {
    const honest = await relay({ maxSubscriptions: 4, enforces: { search: true, expiration: true } });
    const database = await createTestDatabase();
    databases.push(database);
    const before = honest.counters.eventsReceived;
    const stored = honest.store.all().length;
    await monitorOnce({ db: database.db, config: configWith({}), logger: silentLogger(), urls: [honest.url] });
    const claims = await relayClaims(database.db, await relayId(database, honest.url));
    const status = Object.fromEntries(claims.map((claim) => [claim.subject, claim.status]));
    expect(status).toMatchObject({
      '50': 'verified',
      'limitation.max_subscriptions': 'verified',
      '40': 'untested',
      '9': 'untested',
      '70': 'untested',
    });
    expect(claims.find((claim) => claim.subject === '9')?.evidence).toMatch(/needs a write/);
    // Only the monitor's own ephemeral write check (not stored), nothing from the probes.
    expect(honest.counters.eventsReceived).toBe(before + 1);
    expect(honest.store.all()).toHaveLength(stored);

    // A second pass within the probe interval does not probe again.
    const reqsBefore = honest.counters.reqs.length;
    await monitorOnce({
      db: database.db,
      config: configWith({ 'monitor.write_check': false, 'monitor.interval_seconds': 1 }),
      logger: silentLogger(),
      urls: [honest.url],
    });
    expect(honest.counters.reqs.length - reqsBefore).toBeLessThanOrEqual(1);
  });

  it('a refusal for another reason (AUTH wanted) proves nothing about the feature: untested, not refuted', async () => {
    const guarded = await relay({ authRequired: true, nip11: { ...CLAIMS, limitation: { auth_required: true } } });
    const database = await createTestDatabase();
    databases.push(database);
    await monitorOnce({
      db: database.db,
      config: configWith({ 'monitor.write_check': false }),
      logger: silentLogger(),
      urls: [guarded.url],
    });
    const claims = await relayClaims(database.db, await relayId(database, guarded.url));
    const find = (subject: string) => claims.find((claim) => claim.subject === subject);
    expect(find('50')?.status, find('50')?.evidence).toBe('untested');
    expect(find('50')?.evidence).toMatch(/auth-required/);
    expect(find('limitation.auth_required')?.status, find('limitation.auth_required')?.evidence).toBe('verified');
  });

  it('a relay that refuses every write proves no write limit: the control write is refused, so those claims stay untested', async () => {
    const paid = await relay({ misbehaviour: { refuseWrites: 'restricted: paid relay' } });
    const database = await createTestDatabase();
    databases.push(database);
    await monitorOnce({
      db: database.db,
      config: configWith({ 'monitor.claim_probe_writes': true }),
      logger: silentLogger(),
      urls: [paid.url],
    });
    const claims = await relayClaims(database.db, await relayId(database, paid.url));
    for (const subject of ['9', '70', 'limitation.max_content_length', 'limitation.created_at_lower_limit']) {
      const claim = claims.find((candidate) => candidate.subject === subject);
      expect(claim?.status, `${subject}: ${claim?.evidence}`).toBe('untested');
      expect(claim?.evidence).toContain('restricted: paid relay');
    }
  });
});
