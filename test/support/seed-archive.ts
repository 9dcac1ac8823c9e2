/**
 * A small but complete archive for dashboard and API tests: four active relays (one up with a full
 * NIP-11 document, one flaky, one down whose NIP-11 name is an HTML injection attempt, one onion
 * relay never checked), signed events of several kinds over the last six days seen on several
 * relays, monitor checks of every type at several times over the last three days, sync cursors
 * and a circuit-breaker row. Everything goes through the same storage functions the services use.
 */
import type { Database } from '../../src/db/database.js';
import { insertEventBatch } from '../../src/db/events.js';
import { storeRelayChecks, type CheckRecord } from '../../src/db/relay-checks.js';
import { insertCandidates, type RelayNetwork } from '../../src/db/relays.js';
import { generateEvents } from './events.js';

/** The NIP-11 name of the down relay: rendered anywhere as HTML, it would inject an element. */
export const HOSTILE_NAME = '<img src=x onerror=alert(1)>';

export interface SeededArchive {
  relays: { alpha: string; beta: string; hostile: string; onion: string };
  /** Every seeded relay URL, in insertion (id) order. */
  urls: string[];
  /** NIP-11 names by relay URL (relays without a document are absent). */
  names: Record<string, string>;
  /** Unique events stored. */
  eventCount: number;
  eventRelayPairs: number;
  /** Kinds of the stored events. */
  kinds: number[];
  newestCreatedAt: number;
  checkCount: number;
  /** Relays whose latest open check succeeded / failed. */
  relaysUp: number;
  relaysDown: number;
  /** Open checks of the alpha and hostile relays (successes with a round trip, failures). */
  alphaOpenChecks: { ok: number; failed: number };
  hostileOpenChecks: { ok: number; failed: number };
}

const HOUR = 3_600_000;

export async function seedArchive(db: Database): Promise<SeededArchive> {
  const relays = {
    alpha: 'wss://relay.alpha.example/',
    beta: 'wss://beta.example/nostr',
    hostile: 'wss://relay.hostile.example/',
    onion: `ws://${'a'.repeat(56)}.onion/`,
  };
  const networks: Record<string, RelayNetwork> = {
    [relays.alpha]: 'clearnet',
    [relays.beta]: 'clearnet',
    [relays.hostile]: 'clearnet',
    [relays.onion]: 'tor',
  };
  const urls = Object.values(relays);
  await insertCandidates(
    db,
    urls.map((url) => ({ url, network: networks[url] as RelayNetwork })),
    'seed',
  );
  await db.query(`UPDATE relay SET state = 'active', state_changed_at = now() WHERE url = ANY($1::text[])`, [urls]);
  const { rows } = await db.query<{ id: number; url: string }>('SELECT id, url FROM relay WHERE url = ANY($1::text[])', [urls]);
  const id = (url: string) => rows.find((row) => row.url === url)?.id as number;

  // Events: notes, reactions, profiles, follows and articles over the last six days.
  const now = Math.floor(Date.now() / 1000);
  const main = generateEvents({
    count: 48,
    authors: 6,
    kinds: [1, 1, 1, 7, 7, 0, 3, 30023],
    createdAt: [now - 6 * 86_400, now - 300],
    tags: [['t', 'nostr']],
    seed: 'dashboard-main',
  });
  const extra = generateEvents({ count: 12, authors: 2, kinds: [1, 6], createdAt: [now - 2 * 86_400, now - 120], seed: 'dashboard-extra' });
  let pairs = 0;
  pairs += (await insertEventBatch(db, main, id(relays.alpha))).newRelayLinks;
  pairs += (await insertEventBatch(db, main.slice(0, 24), id(relays.beta))).newRelayLinks;
  pairs += (await insertEventBatch(db, extra, id(relays.beta))).newRelayLinks;
  pairs += (await insertEventBatch(db, extra.slice(0, 6), id(relays.hostile))).newRelayLinks;
  const events = [...main, ...extra];

  // Monitor checks at several times over the last three days.
  const at = (hoursAgo: number) => new Date(Date.now() - hoursAgo * HOUR);
  const times = [70, 52, 30, 20, 10, 4, 1];
  const nip11 = {
    alpha: {
      name: 'Alpha relay',
      description: 'A well-behaved test relay.\nSecond line of the description.',
      pubkey: 'b'.repeat(64),
      contact: 'mailto:ops@alpha.example',
      software: 'git+https://github.com/hoytech/strfry.git',
      version: '1.0.4',
      supported_nips: [1, 2, 4, 9, 11, 22, 28, 40, 42, 70, 77],
      limitation: { max_message_length: 131_072, max_subscriptions: 20, max_limit: 500, auth_required: false, payment_required: false },
    },
    beta: { name: 'Beta', software: 'https://git.sr.ht/~gheartsfield/nostr-rs-relay', version: '0.9.0', supported_nips: [1, 11, 15, 20] },
    hostile: {
      name: HOSTILE_NAME,
      description: '<script>alert("x")</script> & <b>bold</b>',
      software: '<svg onload=alert(2)>',
      supported_nips: [1, '<i>11</i>'],
    },
  };
  const dns = (address: string): CheckRecord['document'] => ({ a: [address], aaaa: [] });
  const ssl = (host: string, days: number): CheckRecord['document'] => ({
    subject: host,
    subject_alt_names: [`DNS:${host}`],
    issuer: 'R11',
    issuer_organization: "Let's Encrypt",
    valid_from: new Date(Date.now() - 60 * 86_400_000).toISOString(),
    valid_to: new Date(Date.now() + days * 86_400_000).toISOString(),
  });
  const records: Record<string, CheckRecord[]> = { [relays.alpha]: [], [relays.beta]: [], [relays.hostile]: [] };
  const alphaOpenChecks = { ok: 0, failed: 0 };
  const hostileOpenChecks = { ok: 0, failed: 0 };
  times.forEach((hoursAgo, index) => {
    const checkedAt = at(hoursAgo);
    // alpha: always up (one failure three days ago), fast.
    const alphaUp = hoursAgo !== 70;
    alphaOpenChecks[alphaUp ? 'ok' : 'failed'] += 1;
    records[relays.alpha]?.push(
      alphaUp
        ? { type: 'open', checkedAt, ok: true, rttMs: 60 + ((index * 17) % 50) }
        : { type: 'open', checkedAt, ok: false, reason: 'connect ETIMEDOUT 192.0.2.10:443' },
      {
        type: 'read',
        checkedAt,
        ok: alphaUp,
        rttMs: alphaUp ? 120 + index * 5 : undefined,
        reason: alphaUp ? undefined : 'connection closed',
        detail: { answer: 'event' },
      },
      {
        type: 'write',
        checkedAt,
        ok: false,
        rttMs: 90,
        reason: 'auth-required: we only accept events from members',
        detail: { answered: true, accepted: false, prefix: 'auth-required' },
      },
      { type: 'nip11', checkedAt, ok: true, rttMs: 45, document: nip11.alpha },
      { type: 'dns', checkedAt, ok: true, rttMs: 12, document: dns('192.0.2.10'), detail: { ttl_a: 300 } },
      {
        type: 'ssl',
        checkedAt,
        ok: true,
        rttMs: 30,
        document: ssl('relay.alpha.example', 60),
        detail: { days_to_expiry: 60, protocol: 'TLSv1.3' },
      },
      {
        type: 'geo',
        checkedAt,
        ok: true,
        document: {
          country: 'DE',
          country_name: 'Germany',
          city: 'Falkenstein',
          continent: 'EU',
          geohash: 'u2fkb',
          asn: 24_940,
          as_org: 'Hetzner Online GmbH',
        },
        detail: { ip: '192.0.2.10' },
      },
      { type: 'requirements', checkedAt, ok: true, document: { auth: false, payment: false, writes: true, pow: false } },
    );
    // beta: flaky and slow, certificate about to expire.
    const betaUp = hoursAgo !== 20 && hoursAgo !== 52;
    records[relays.beta]?.push(
      betaUp
        ? { type: 'open', checkedAt, ok: true, rttMs: 380 + index * 20 }
        : { type: 'open', checkedAt, ok: false, reason: 'connect ECONNREFUSED 198.51.100.7:443' },
      { type: 'nip11', checkedAt, ok: true, rttMs: 210, document: nip11.beta },
      { type: 'dns', checkedAt, ok: true, rttMs: 20, document: dns('198.51.100.7'), detail: { ttl_a: 60 } },
      { type: 'ssl', checkedAt, ok: true, rttMs: 80, document: ssl('beta.example', 5), detail: { days_to_expiry: 5, protocol: 'TLSv1.2' } },
      {
        type: 'geo',
        checkedAt,
        ok: true,
        document: { country: 'US', city: 'Ashburn', continent: 'NA', geohash: 'dqbyh' },
        detail: { ip: '198.51.100.7' },
      },
    );
    // hostile: up at first, down for the last day.
    const hostileUp = hoursAgo > 24;
    hostileOpenChecks[hostileUp ? 'ok' : 'failed'] += 1;
    records[relays.hostile]?.push(
      hostileUp
        ? { type: 'open', checkedAt, ok: true, rttMs: 1_500 + index * 100 }
        : { type: 'open', checkedAt, ok: false, reason: '<b>timeout</b> after 10000 ms' },
      { type: 'nip11', checkedAt, ok: true, rttMs: 300, document: nip11.hostile },
      { type: 'geo', checkedAt, ok: true, document: { country: 'FR', city: '<i>Paris</i>' }, detail: { ip: '203.0.113.5' } },
    );
  });
  // alpha's claims, probed once: one kept, one broken, one not provable.
  records[relays.alpha]?.push({
    type: 'claims',
    checkedAt: at(2),
    ok: true,
    rttMs: 4_200,
    detail: {
      findings: [
        { subject: '9', status: 'verified', evidence: 'stopped serving our event after our deletion request' },
        {
          subject: '70',
          status: 'refuted',
          evidence: 'accepted a protected event (["-"] tag) from a connection that had not authenticated',
        },
        { subject: 'limitation.max_subscriptions', status: 'untested', evidence: '3 of 21 subscriptions answered in time' },
      ],
    },
  });
  let checkCount = 0;
  for (const [url, list] of Object.entries(records)) {
    await storeRelayChecks(db, id(url), list);
    checkCount += list.length;
  }

  // Sync positions (alpha nearly current, beta days behind, hostile never completed) and a bench.
  await db.query(
    `INSERT INTO sync_cursor (relay_id, scope, completed_until, last_full_pass_at, updated_at)
     VALUES ($1, 'all', $4, now() - interval '2 hours', now() - interval '5 minutes'),
            ($2, 'all', $5, NULL, now() - interval '3 hours'),
            ($3, 'all', NULL, NULL, now() - interval '1 hour')`,
    [id(relays.alpha), id(relays.beta), id(relays.hostile), now - 600, now - 3 * 86_400 - 7_200],
  );
  await db.query(
    `INSERT INTO relay_health (relay_id, consecutive_failures, last_success_at, last_failure_at, last_error, benched_until)
     VALUES ($1, 3, now() - interval '26 hours', now() - interval '1 hour', 'monitor: <b>timeout</b> after 10000 ms', now() + interval '2 hours')`,
    [id(relays.hostile)],
  );

  return {
    relays,
    urls,
    names: { [relays.alpha]: nip11.alpha.name, [relays.beta]: nip11.beta.name, [relays.hostile]: nip11.hostile.name },
    eventCount: events.length,
    eventRelayPairs: pairs,
    kinds: [...new Set(events.map((event) => event.kind))].sort((a, b) => a - b),
    newestCreatedAt: Math.max(...events.map((event) => event.created_at)),
    checkCount,
    relaysUp: 2,
    relaysDown: 1,
    alphaOpenChecks,
    hostileOpenChecks,
  };
}
