/**
 * Discovery end to end, on each database: a seeded test relay holds relay lists (kind 10002, kind 3,
 * a kind 30166, relay hints) naming other test relays plus hostile and malformed URLs.
 * `seed`, `validate`, `sync`, `find`, `validate` end with exactly the reachable, allowed relays
 * active; `find` again adds nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NostrEvent } from '../../src/nostr/event.js';
import { signEvent } from '../../src/nostr/sign.js';
import { relayMentions } from '../../src/services/finder/extract.js';
import { runCli } from '../support/cli.js';
import { createCliDatabase, createTestDatabase } from '../support/database.js';
import { loadConfig } from '../../src/config/loader.js';
import { insertEventBatch } from '../../src/db/events.js';
import { getOrCreateRelayIds, setRelayState } from '../../src/db/relays.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createFinderService, findFromArchive, findOnce } from '../../src/services/finder/finder.js';
import { testSecretKey } from '../support/events.js';
import { startTestRelay, type TestRelay } from '../support/relay/server.js';

let seedRelay: TestRelay;
let second: TestRelay;
let third: TestRelay;
let database: Awaited<ReturnType<typeof createCliDatabase>>;
let dir: string;
const dead = 'ws://127.0.0.1:1/';

beforeAll(async () => {
  [seedRelay, second, third] = await Promise.all([startTestRelay(), startTestRelay(), startTestRelay()]);
  const key = testSecretKey('finder', 0);
  const events: NostrEvent[] = [
    signEvent(
      {
        kind: 10002,
        created_at: 1_700_000_000,
        content: '',
        tags: [
          ['r', second.url],
          ['r', dead, 'read'],
          ['r', 'https://not-a-relay.example'],
          ['r', 'wss://wss://broken'],
        ],
      },
      key,
    ),
    signEvent(
      {
        kind: 3,
        created_at: 1_700_000_001,
        content: JSON.stringify({
          [third.url.toUpperCase().replace('WS://', 'ws://')]: { read: true, write: true },
          'wss://relay.blocked.example.test': {},
        }),
        tags: [],
      },
      key,
    ),
    signEvent({ kind: 30166, created_at: 1_700_000_002, content: '', tags: [['d', second.url]] }, testSecretKey('finder', 1)),
    signEvent(
      {
        kind: 1,
        created_at: 1_700_000_003,
        content: 'reply',
        tags: [
          ['e', 'a'.repeat(64), `wss://${'x'.repeat(600)}.example`],
          ['p', 'b'.repeat(64), third.url],
        ],
      },
      key,
    ),
  ];
  seedRelay.addEvents(events);
  database = await createCliDatabase();
  dir = mkdtempSync(join(tmpdir(), 'bigbrotr-finder-'));
});
afterAll(async () => {
  await Promise.all([seedRelay, second, third].map((relay) => relay?.close()));
  await database?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('relay mentions', () => {
  it('collects URLs from NIP-65, contact lists, relay-list kinds, hints and NIP-66, bounded, tolerating junk', () => {
    expect(relayMentions({ kind: 10002, tags: [['r', 'wss://a.example'], ['r'], [1, 2], 'junk'], content: '' })).toEqual([
      { source: 'nip65', text: 'wss://a.example' },
    ]);
    expect(relayMentions({ kind: 3, tags: [], content: '{"wss://b.example":{"read":true}}' })).toEqual([
      { source: 'contacts', text: 'wss://b.example' },
    ]);
    expect(relayMentions({ kind: 3, tags: [], content: 'not json' })).toEqual([]);
    expect(relayMentions({ kind: 10050, tags: [['relay', 'wss://c.example']], content: '' })).toEqual([
      { source: 'relay-list', text: 'wss://c.example' },
    ]);
    expect(relayMentions({ kind: 30166, tags: [['d', 'wss://d.example']], content: '' })).toEqual([
      { source: 'nip66', text: 'wss://d.example' },
    ]);
    expect(
      relayMentions({
        kind: 1,
        tags: [
          ['e', 'x', 'wss://e.example'],
          ['q', 'y', 'wss://f.example'],
          ['t', 'z', 'wss://no.example'],
        ],
        content: '',
      }).map((mention) => mention.text),
    ).toEqual(['wss://e.example', 'wss://f.example']);
    expect(
      relayMentions({ kind: 10002, tags: Array.from({ length: 5_000 }, (_, index) => ['r', `wss://r${index}.example`]), content: '' }),
    ).toHaveLength(1_000);
  });
});

describe('finder screening and revival', () => {
  it('refuses private literals and local names unless allowed, counts mentions, and revives long-retired relays mentioned again', async () => {
    const test = await createTestDatabase();
    try {
      const relayIds = await getOrCreateRelayIds(test.db, [{ url: 'wss://source.example/', network: 'clearnet' }], 'test');
      const sourceId = relayIds.get('wss://source.example/') as number;
      const key = testSecretKey('finder-unit', 0);
      const list = signEvent(
        {
          kind: 10002,
          created_at: 1_700_000_000,
          content: '',
          tags: [
            ['r', 'ws://10.1.2.3/'],
            ['r', 'wss://relay.public.example'],
            ['r', 'wss://relay.public.example/'],
            ['r', 'wss://relay/'],
            ['r', 'wss://printer.local'],
          ],
        },
        key,
      );
      await insertEventBatch(test.db, [list], sourceId, { batchSize: 100 });
      const config = loadConfig({ env: {}, overrides: { 'finder.scan_lag_seconds': 0 } }).config;
      const first = await findFromArchive({ db: test.db, config, logger: silentLogger() });
      // Single-label and .local names are refused before any DNS lookup, like private literals.
      expect(first).toMatchObject({ scanned: 1, newCandidates: 1, revived: 0, refused: { 'private-address': 1, 'local-name': 2 } });
      const { rows } = await test.db.query<{ mention_count: number; discovered_from: string }>(
        "SELECT mention_count, discovered_from FROM relay WHERE url = 'wss://relay.public.example/'",
      );
      expect(rows[0]).toEqual({ mention_count: 2, discovered_from: 'event:nip65' });

      await test.db.query(
        "UPDATE relay SET state = 'retired', state_changed_at = now() - interval '30 days' WHERE url = 'wss://relay.public.example/'",
      );
      const again = signEvent({ kind: 10002, created_at: 1_700_000_100, content: '', tags: [['r', 'wss://relay.public.example/']] }, key);
      await insertEventBatch(test.db, [again], sourceId, { batchSize: 100 });
      const second = await findFromArchive({ db: test.db, config, logger: silentLogger() });
      expect(second).toMatchObject({ scanned: 1, newCandidates: 0, revived: 1 });
      expect(
        (await test.db.query<{ state: string }>("SELECT state FROM relay WHERE url = 'wss://relay.public.example/'")).rows[0]?.state,
      ).toBe('candidate');
    } finally {
      await test.dispose();
    }
  });
});

describe('finder sources beyond the archive', () => {
  it('asks active relays directly for kinds 10002/30166 and reads external lists with time and size limits', async () => {
    const test = await createTestDatabase();
    const direct = await startTestRelay();
    const http = createServer((request, response) => {
      if (request.url === '/good')
        return void response.end(JSON.stringify(['wss://listed.example', { url: 'wss://object.example/' }, 42, 'http://nope.example']));
      if (request.url === '/huge')
        return void response.end(JSON.stringify(Array.from({ length: 20_000 }, (_, index) => `wss://r${index}.example`)));
      if (request.url === '/notjson') return void response.end('<html>');
      // /slow: never answers
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
    try {
      direct.addEvents([
        signEvent(
          { kind: 10002, created_at: 1_700_000_000, content: '', tags: [['r', 'wss://direct.example']] },
          testSecretKey('finder-direct', 0),
        ),
      ]);
      const ids = await getOrCreateRelayIds(test.db, [{ url: direct.url, network: 'clearnet' }], 'seed');
      await setRelayState(test.db, ids.get(direct.url) as number, 'active');
      const config = loadConfig({
        env: {},
        overrides: {
          'finder.external_lists': [`${base}/good`, `${base}/huge`, `${base}/notjson`, `${base}/slow`],
          'finder.external_list_max_bytes': 10_000,
          'finder.external_list_timeout_ms': 1_000,
        },
      }).config;
      const summary = await findOnce({ db: test.db, config, logger: silentLogger() });
      expect(summary.relaysAsked).toBe(1);
      expect(summary.listsFetched).toBe(1);
      expect(summary.newBySource).toEqual({ 'relay:nip65': 1, list: 2 });
      expect(summary.refused).toEqual({ 'bad-scheme': 1 });
      expect(summary.errors.map((error) => error.error)).toEqual([
        expect.stringMatching(/huge: body .*larger than finder.external_list_max_bytes/),
        expect.stringMatching(/notjson: not JSON/),
        expect.stringMatching(/slow: no answer within 1000 ms/),
      ]);
      const { rows } = await test.db.query<{ url: string; discovered_from: string }>(
        "SELECT url, discovered_from FROM relay WHERE state = 'candidate' ORDER BY url",
      );
      expect(rows).toEqual([
        { url: 'wss://direct.example/', discovered_from: 'relay:nip65' },
        { url: 'wss://listed.example/', discovered_from: 'list' },
        { url: 'wss://object.example/', discovered_from: 'list' },
      ]);
      // The next round asks the relay only for what is newer than its last scan.
      const again = await findOnce({
        db: test.db,
        config: { ...config, finder: { ...config.finder, external_lists: [] } },
        logger: silentLogger(),
      });
      expect(again).toMatchObject({ relaysAsked: 1, newCandidates: 0, mentions: {} });
    } finally {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
      await direct.close();
      await test.dispose();
    }
  });
});

describe('bigbrotr find + validate', () => {
  it('from one seeded relay, ends with exactly the reachable, allowed relays active; a second find adds nothing', async () => {
    const env = {
      ...database.env,
      BIGBROTR_RELAY_URL__ALLOW_PRIVATE: 'true',
      BIGBROTR_RELAY_URL__BLACKLIST: '*.blocked.example.test',
      BIGBROTR_FINDER__SCAN_LAG_SECONDS: '0',
      BIGBROTR_VALIDATOR__PROBE_TIMEOUT_MS: '2000',
      BIGBROTR_SYNC__RETRY_ATTEMPTS: '0',
    };
    const seedFile = join(dir, 'seeds.txt');
    writeFileSync(seedFile, `${seedRelay.url}\n`);
    expect((await runCli(['seed', '--file', seedFile], env)).code).toBe(0);
    expect((await runCli(['validate', '--once'], env)).code).toBe(0);
    const synced = await runCli(['sync', '--once', '--json'], env);
    expect(synced.code, synced.stderr).toBe(0);
    expect((JSON.parse(synced.stdout) as { results: { stored: number }[] }).results[0]?.stored).toBe(4);

    const found = await runCli(['find', '--once', '--json'], env);
    expect(found.code, found.stderr).toBe(0);
    const summary = JSON.parse(found.stdout) as {
      scanned: number;
      newCandidates: number;
      mentions: Record<string, number>;
      refused: Record<string, number>;
    };
    expect(summary.scanned).toBe(4);
    // The archive first, then the seed relay asked directly for kinds 10002 and 30166 (same URLs again).
    expect(summary.mentions).toEqual({ nip65: 4, contacts: 2, nip66: 1, hint: 2, 'relay:nip65': 4, 'relay:nip66': 1 });
    // second (twice), third (twice: the upper-case contact-list key normalises to the same URL), the dead port.
    expect(summary.newCandidates).toBe(3);
    expect(summary.refused).toEqual({ 'bad-scheme': 2, 'nested-scheme': 2, blacklisted: 1, 'too-long': 1 });

    const validated = await runCli(['validate', '--once', '--json'], env);
    expect(validated.code, validated.stderr).toBe(0);
    const outcome = JSON.parse(validated.stdout) as { promoted: string[]; failed: { url: string }[] };
    expect(outcome.promoted.sort()).toEqual([second.url, third.url].sort());
    expect(outcome.failed.map((failure) => failure.url)).toEqual([dead]);
    const stats = JSON.parse((await runCli(['stats', '--json'], env)).stdout) as { relays: { byState: Record<string, number> } };
    expect(stats.relays.byState).toEqual({ candidate: 1, active: 3, retired: 0 });

    const again = await runCli(['find', '--once', '--json'], env);
    expect(JSON.parse(again.stdout)).toMatchObject({ scanned: 0, newCandidates: 0 });
  });
});

describe('finder service across processes', () => {
  it('runs a round only while it holds the round lease, so two processes never scan the same events twice', async () => {
    const test = await createTestDatabase();
    try {
      const relayIds = await getOrCreateRelayIds(test.db, [{ url: 'wss://source.example/', network: 'clearnet' }], 'seed');
      const key = testSecretKey('finder-lease', 0);
      await insertEventBatch(
        test.db,
        [signEvent({ kind: 10002, created_at: 1_700_000_000, content: '', tags: [['r', 'wss://found.example/']] }, key)],
        relayIds.get('wss://source.example/') as number,
      );
      await test.db.query(`UPDATE event SET archived_at = now() - interval '1 hour'`);
      const config = loadConfig({ env: {}, overrides: { 'finder.relay_scan': false, 'finder.interval_seconds': 1 } }).config;
      const candidates = async () =>
        Number((await test.db.query<{ n: string }>(`SELECT count(*) AS n FROM relay WHERE url = 'wss://found.example/'`)).rows[0]?.n);
      const runFor = async (ms: number) => {
        const controller = new AbortController();
        const running = createFinderService({ db: test.db, config: () => config, logger: silentLogger() }).run(controller.signal);
        await new Promise((resolve) => setTimeout(resolve, ms));
        controller.abort();
        await running;
      };
      // Another process holds the round: this one does nothing.
      await test.db.query(
        `INSERT INTO service_lease (service, resource, owner, expires_at) VALUES ('find', 'round', 'other-host:1:abc', now() + interval '10 minutes')`,
      );
      await runFor(1_500);
      expect(await candidates()).toBe(0);
      // The lease is released (or expires): the next round runs.
      await test.db.query(`UPDATE service_lease SET expires_at = now() - interval '1 second' WHERE service = 'find'`);
      await runFor(1_500);
      expect(await candidates()).toBe(1);
      const { rows } = await test.db.query<{ owner: string }>(`SELECT owner FROM service_lease WHERE service = 'find'`);
      expect(rows[0]?.owner).toBe(''); // released after the round
    } finally {
      await test.dispose();
    }
  });
});
