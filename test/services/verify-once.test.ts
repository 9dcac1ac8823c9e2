/**
 * Verify once per signature: an event whose exact (id, sig) the process verified before is not
 * verified again when another relay serves it (only its id is checked, which proves the content); a
 * different valid signature over a known id is verified and adds provenance, the archive keeping the
 * first; a forged one adds nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loader.js';
import { getOrCreateRelayIds } from '../../src/db/relays.js';
import type { NostrEvent } from '../../src/nostr/event.js';
import { signEvent } from '../../src/nostr/sign.js';
import { silentLogger } from '../../src/observability/logger.js';
import { syncRelayWithRetries } from '../../src/services/sync/pass-runner.js';
import { createVerifyPool, type VerifyPool } from '../../src/verify/pool.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { generateEvents, testSecretKey, withBadSignature } from '../support/events.js';
import { startTestRelay, type TestRelay } from '../support/relay/server.js';

const base = 1_700_000_000;
let pool: VerifyPool;
let database: TestDatabase;
const relays: TestRelay[] = [];

beforeAll(async () => {
  pool = await createVerifyPool({ workers: 1, batchSize: 200, knownSignatures: 10_000 });
  database = await createTestDatabase();
});
afterAll(async () => {
  await pool?.close();
  await Promise.all(relays.map((relay) => relay.close()));
  await database?.dispose();
});

async function relayWith(events: NostrEvent[]): Promise<{ id: number; url: string }> {
  const relay = await startTestRelay({ keepAllVersions: true, negentropy: false });
  relays.push(relay);
  relay.addEvents(events);
  const ids = await getOrCreateRelayIds(database.db, [{ url: relay.url, network: 'clearnet' }], 'test');
  return { id: ids.get(relay.url) as number, url: relay.url };
}

describe('verify once per signature', () => {
  it('copies from another relay skip the signature check; new signatures over known ids are checked', async () => {
    const config = loadConfig({ env: {} }).config;
    const events = generateEvents({ count: 300, authors: 6, createdAt: [base, base + 299], seed: 'once' });
    const first = await relayWith(events);
    const pass = (relay: { id: number; url: string }) =>
      syncRelayWithRetries({ db: database.db, relay, config, pool, logger: silentLogger(), clock: () => (base + 1_000) * 1000 });
    const one = await pass(first);
    expect(one).toMatchObject({ stored: 300, knownSignatures: 0 });

    // The same events elsewhere, plus the same ids re-signed (a different valid signature) and forged.
    const key = testSecretKey('once', 0);
    const original = events[0] as NostrEvent;
    const resigned = signEvent(
      { kind: original.kind, created_at: original.created_at, tags: original.tags, content: original.content },
      key,
    );
    expect(resigned.id).toBe(original.id);
    expect(resigned.sig).not.toBe(original.sig);
    const forged = withBadSignature(events[6] as NostrEvent);
    const second = await relayWith([...events.slice(1, 6), ...events.slice(7), resigned, forged]);
    const two = await pass(second);
    expect(two.stored).toBe(0);
    expect(two.knownSignatures).toBe(298);
    expect(two.newLinks).toBe(299);
    expect(two.invalid.badSig).toBe(1);
    // The archive keeps the signature it saw first, and still re-verifies.
    const { rows } = await database.db.query<{ sig: string }>("SELECT encode(sig, 'hex') AS sig FROM event WHERE id = decode($1, 'hex')", [
      original.id,
    ]);
    expect(rows[0]?.sig).toBe(original.sig);
    const links = await database.db.query<{ relay_id: number }>(
      "SELECT relay_id FROM event_relay WHERE event_id = decode($1, 'hex') ORDER BY relay_id",
      [events[6]?.id],
    );
    expect(links.rows.map((row) => row.relay_id)).toEqual([first.id]);
  });
});
