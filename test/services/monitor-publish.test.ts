/**
 * The monitor's NIP-66 events (published to a real relay, checked tag by tag, signatures verified
 * with nostr-tools, stored in the archive), onion relays checked through a real SOCKS5 server, no
 * sockets or timers left after a pass, and the `bigbrotr monitor` command.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyEvent } from 'nostr-tools/pure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loader.js';
import type { Config } from '../../src/config/schema.js';
import { insertCandidates } from '../../src/db/relays.js';
import type { NostrEvent } from '../../src/nostr/event.js';
import { generateSecretKey, getPublicKey } from '../../src/nostr/sign.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createMonitorState, monitorOnce } from '../../src/services/monitor/monitor.js';
import { runCli } from '../support/cli.js';
import { createCliDatabase, createTestDatabase, type TestDatabase } from '../support/database.js';
import { startOnionSocksProxy, type OnionSocksProxy } from '../support/onion-socks-proxy.js';
import { startTestRelay, type TestRelay } from '../support/relay/server.js';

let proxy: OnionSocksProxy;
const relays: TestRelay[] = [];
const databases: TestDatabase[] = [];

beforeAll(async () => {
  proxy = await startOnionSocksProxy();
});
afterAll(async () => {
  for (const relay of relays) await relay.close();
  for (const database of databases) await database.dispose();
  await proxy?.close();
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
      ...overrides,
    },
  }).config;
}

const tagsNamed = (event: NostrEvent, name: string) => event.tags.filter((tag) => tag[0] === name);

describe('NIP-66 publishing', () => {
  it('publishes a signed kind 30166 per relay and one kind 10166 announcement, exactly as NIP-66 defines the tags, and archives them', async () => {
    const checked = await relay({
      nip11: {
        supported_nips: [1, 11, 42],
        language_tags: ['en', 'pt-BR', '*'],
        tags: ['sfw', 'Bitcoin'],
        limitation: { payment_required: false, auth_required: false },
      },
    });
    const dead = 'ws://127.0.0.1:1/';
    const target = await relay();
    const refusing = await relay({ misbehaviour: { refuseWrites: 'blocked: no monitors here' } });
    const secretKey = generateSecretKey();
    const test = await database();
    const config = configWith({
      'identity.secret_key': secretKey,
      'monitor.publish': true,
      'monitor.publish_relays': [target.url, refusing.url],
      'monitor.interval_seconds': 1800,
      'monitor.write_check': false,
    });
    const state = createMonitorState();
    const summary = await monitorOnce({ db: test.db, config, logger: silentLogger(), urls: [checked.url, dead], state });
    // Two reports, one announcement, and the monitor's kind 0 profile and kind 10002 relay list.
    expect(summary).toMatchObject({ checked: 2, published: 5, publishFailures: 0 });

    const pubkey = getPublicKey(secretKey);
    const published = target.store.query({ authors: [pubkey] }, 100);
    expect(published.map((event) => event.kind).sort((a, b) => a - b)).toEqual([0, 10002, 10166, 30166, 30166]);
    for (const event of published) expect(verifyEvent({ ...event }), `signature of kind ${event.kind}`).toBe(true);
    expect(refusing.store.query({ authors: [pubkey] }, 100)).toEqual([]);

    const announcement = published.find((event) => event.kind === 10166) as NostrEvent;
    expect(announcement.content).toBe('');
    expect(tagsNamed(announcement, 'frequency')).toEqual([['frequency', '1800']]);
    expect(tagsNamed(announcement, 'timeout')).toEqual([
      ['timeout', 'open', '2000'],
      ['timeout', 'read', '2000'],
      ['timeout', 'nip11', '2000'],
      ['timeout', 'dns', '5000'],
      ['timeout', 'ssl', '2000'],
    ]);
    expect(tagsNamed(announcement, 'c')).toEqual([
      ['c', 'open'],
      ['c', 'read'],
      ['c', 'nip11'],
      ['c', 'dns'],
      ['c', 'ssl'],
    ]);
    expect(announcement.tags.every((tag) => ['frequency', 'timeout', 'c', 'g'].includes(tag[0] as string))).toBe(true);

    const report = published.find((event) => event.kind === 30166 && tagsNamed(event, 'd')[0]?.[1] === checked.url) as NostrEvent;
    expect(tagsNamed(report, 'd')).toEqual([['d', checked.url]]);
    expect(tagsNamed(report, 'n')).toEqual([['n', 'clearnet']]);
    for (const name of ['rtt-open', 'rtt-read']) {
      const [tag] = tagsNamed(report, name);
      expect(tag?.length, name).toBe(2);
      expect(tag?.[1], name).toMatch(/^\d+$/);
    }
    expect(tagsNamed(report, 'rtt-write')).toEqual([]); // the write check is off: no tag for a check not done
    expect(tagsNamed(report, 'N')).toEqual([
      ['N', '1'],
      ['N', '11'],
      ['N', '42'],
    ]);
    expect(tagsNamed(report, 'R')).toEqual([
      ['R', '!auth'],
      ['R', '!payment'],
      ['R', '!writes'],
      ['R', '!pow'],
    ]);
    expect(tagsNamed(report, 't')).toEqual([
      ['t', 'sfw'],
      ['t', 'bitcoin'],
    ]);
    expect(tagsNamed(report, 'l')).toEqual([
      ['l', 'en', 'ISO-639-1'],
      ['l', 'pt', 'ISO-639-1'],
    ]);
    expect(tagsNamed(report, 'g')).toEqual([]); // no geolocation database configured
    expect(JSON.parse(report.content)).toMatchObject({ name: 'bigbrotr test relay', supported_nips: [1, 11, 42] });
    for (const tag of report.tags) expect(tag.every((value) => typeof value === 'string')).toBe(true);

    const down = published.find((event) => event.kind === 30166 && tagsNamed(event, 'd')[0]?.[1] === dead) as NostrEvent;
    expect(down.tags).toEqual([
      ['d', dead],
      ['n', 'clearnet'],
    ]); // only what was learnt: it did not open
    expect(down.content).toBe('');

    // The archive holds them too, linked to the relay that accepted them.
    const { rows } = await test.db.query<{ kind: number; url: string }>(
      `SELECT e.kind, r.url FROM event e JOIN event_relay er ON er.event_id = e.id JOIN relay r ON r.id = er.relay_id WHERE e.pubkey = decode($1, 'hex') ORDER BY e.kind`,
      [pubkey],
    );
    expect(rows.map((row) => row.kind)).toEqual([0, 10002, 10166, 30166, 30166]);
    expect(new Set(rows.map((row) => row.url))).toEqual(new Set([target.url]));

    // The announcement goes out once per interval, not with every pass.
    await monitorOnce({ db: test.db, config, logger: silentLogger(), urls: [checked.url], state });
    expect(target.store.query({ authors: [pubkey], kinds: [10166] }, 10)).toEqual([announcement]);
    // A second monitor in the same process keeps its own interval: it announces itself (a later created_at replaces the first).
    const later = announcement.created_at + 2;
    await monitorOnce({
      db: test.db,
      config,
      logger: silentLogger(),
      urls: [checked.url],
      state: createMonitorState(),
      now: () => later * 1000,
    });
    expect(target.store.query({ authors: [pubkey], kinds: [10166] }, 10).map((event) => event.created_at)).toEqual([later]);
  });

  it("publishes the monitor's kind 0 profile and kind 10002 relay list at its first pass, and again only when they change", async () => {
    const target = await relay();
    const listed = await relay();
    const checked = await relay();
    const secretKey = generateSecretKey();
    const pubkey = getPublicKey(secretKey);
    const test = await database();
    const state = createMonitorState();
    let clock = Date.now();
    const now = () => clock;
    const base = {
      'identity.secret_key': secretKey,
      'monitor.publish': true,
      'monitor.publish_relays': [target.url],
      'monitor.write_check': false,
      'monitor.interval_seconds': 1,
    };
    const first = configWith({
      ...base,
      'monitor.profile_name': 'test monitor',
      'monitor.profile_about': 'checks relays',
      'monitor.profile_picture': 'https://pictures.example/monitor.png',
      'monitor.profile_relays': [target.url, listed.url],
    });
    await monitorOnce({ db: test.db, config: first, logger: silentLogger(), urls: [checked.url], state, now });

    const [profile] = target.store.query({ authors: [pubkey], kinds: [0] }, 10);
    expect(verifyEvent({ ...(profile as NostrEvent) })).toBe(true);
    expect(JSON.parse((profile as NostrEvent).content)).toEqual({
      name: 'test monitor',
      about: 'checks relays',
      picture: 'https://pictures.example/monitor.png',
    });
    const [list] = target.store.query({ authors: [pubkey], kinds: [10002] }, 10);
    expect(verifyEvent({ ...(list as NostrEvent) })).toBe(true);
    expect((list as NostrEvent).tags).toEqual([
      ['r', target.url],
      ['r', listed.url],
    ]);

    // Same configuration: not sent again. A new name: both sent again (replaceable events).
    await monitorOnce({ db: test.db, config: first, logger: silentLogger(), urls: [checked.url], state, now });
    expect(target.counters.eventsReceived).toBe(target.store.query({ authors: [pubkey] }, 100).length + 1); // + the second 30166
    const received = target.counters.eventsReceived;
    clock += 1_100; // a later created_at, so relays replace the profile
    const renamed = configWith({ ...base, 'monitor.profile_name': 'renamed monitor' });
    await monitorOnce({ db: test.db, config: renamed, logger: silentLogger(), urls: [checked.url], state, now });
    expect(target.counters.eventsReceived).toBeGreaterThanOrEqual(received + 3);
    const [latest] = target.store.query({ authors: [pubkey], kinds: [0] }, 10);
    expect(JSON.parse((latest as NostrEvent).content)).toMatchObject({ name: 'renamed monitor' });
    // Without profile_relays the list names where the monitor publishes.
    const [latestList] = target.store.query({ authors: [pubkey], kinds: [10002] }, 10);
    expect((latestList as NostrEvent).tags).toEqual([['r', target.url]]);
  });

  it('refuses a profile relay that is not a relay URL, naming the option', async () => {
    const secretKey = generateSecretKey();
    const test = await database();
    const config = configWith({
      'identity.secret_key': secretKey,
      'monitor.publish': true,
      'monitor.publish_relays': ['wss://relay.example'],
      'monitor.profile_relays': ['https://not-a-relay.example'],
    });
    await expect(monitorOnce({ db: test.db, config, logger: silentLogger(), urls: [] })).rejects.toThrow(/monitor\.profile_relays\[0\]/);
  });

  it('checks .onion relays through the SOCKS5 proxy, NIP-11 over HTTP and the WebSocket alike', async () => {
    const hidden = await relay();
    const onion = `ws://${'a'.repeat(56)}.onion:${hidden.port}/`;
    const test = await database();
    const requestsBefore = proxy.requests.length;
    const summary = await monitorOnce({
      db: test.db,
      config: configWith({ 'relay.socks_proxy_url': proxy.url }),
      logger: silentLogger(),
      urls: [onion],
    });
    expect(summary).toMatchObject({ checked: 1, up: 1 });
    const { rows } = await test.db.query<{ check_type: string; ok: boolean }>(
      'SELECT check_type, ok FROM relay_metadata_latest WHERE url = $1 ORDER BY check_type',
      [onion],
    );
    expect(rows).toEqual([
      { check_type: 'claims', ok: true }, // the claim probe went through the proxy too
      { check_type: 'nip11', ok: true },
      { check_type: 'open', ok: true },
      { check_type: 'read', ok: true },
      { check_type: 'requirements', ok: true },
      { check_type: 'write', ok: true },
    ]); // no DNS, TLS or geo for an onion name
    const { rows: network } = await test.db.query<{ network: string }>('SELECT network FROM relay WHERE url = $1', [onion]);
    expect(network[0]?.network).toBe('tor');
    const throughProxy = proxy.requests.slice(requestsBefore);
    expect(throughProxy.filter((request) => request === `${'a'.repeat(56)}.onion:${hidden.port}`).length).toBe(3); // one HTTP, one WebSocket for the checks, one for the claim probe

    // Without a proxy the onion relay is down, with the reason.
    const without = await monitorOnce({ db: test.db, config: configWith(), logger: silentLogger(), urls: [onion] });
    expect(without.relays[0]).toMatchObject({ up: false, reason: expect.stringMatching(/socks_proxy_url/) });
  });

  it('leaves no sockets or timers behind after a pass', async () => {
    // One PostgreSQL connection, so that the pool's own socket and idle timer are the same before and after.
    const test = await createTestDatabase({ poolSize: 1 });
    databases.push(test);
    const fine = await relay();
    const slow = await relay({ misbehaviour: { neverEose: true, noOk: true, nip11Mode: 'slow' } });
    const hanging = await relay({ misbehaviour: { hangHandshake: true } });
    const config = configWith({
      'monitor.open_timeout_ms': 500,
      'monitor.read_timeout_ms': 500,
      'monitor.write_timeout_ms': 500,
      'monitor.nip11_timeout_ms': 500,
    });
    // Only what the monitor's own code can create (sockets, TLS, DNS lookups, timers): the test runner's
    // pipes, files and terminals come and go on their own and would make this flaky.
    const MONITOR_MADE = new Set(['TCPSocketWrap', 'TLSWrap', 'GetAddrInfoReqWrap', 'QueryReqWrap', 'UDPWrap', 'Timeout', 'Immediate']);
    const resources = () =>
      process
        .getActiveResourcesInfo()
        .filter((type) => MONITOR_MADE.has(type))
        .sort();
    // The relays run in this process too: their side of a closed connection goes away a moment later.
    const settled = async () => {
      let previous = resources();
      for (let round = 0; round < 20; round += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const now = resources();
        if (now.join() === previous.join()) return now;
        previous = now;
      }
      return previous;
    };
    await monitorOnce({ db: test.db, config, logger: silentLogger(), urls: [fine.url] }); // warm-up: lazy pools and modules
    const before = await settled();
    await monitorOnce({ db: test.db, config, logger: silentLogger(), urls: [fine.url, slow.url, hanging.url, 'ws://127.0.0.1:1/'] });
    const after = await settled();
    // Nothing more of any type than before; fewer is fine (a timer of an earlier test's relay may end meanwhile).
    const count = (list: string[]) =>
      list.reduce((counts, type) => counts.set(type, (counts.get(type) ?? 0) + 1), new Map<string, number>());
    const [had, has] = [count(before), count(after)];
    for (const [type, number] of has) expect(number, `${type} handles after the pass`).toBeLessThanOrEqual(had.get(type) ?? 0);
  });
});

describe('bigbrotr monitor', () => {
  it('checks named relays once and prints the outcome; reads the key from a file and never prints it; refuses publishing without a key', async () => {
    const checked = await relay();
    const cli = await createCliDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'bigbrotr-monitor-cli-'));
    try {
      const secretKey = generateSecretKey();
      const keyFile = join(dir, 'monitor.key');
      writeFileSync(keyFile, `${secretKey}\n`);
      const env = { ...cli.env, BIGBROTR_IDENTITY__SECRET_KEY_FILE: keyFile, BIGBROTR_LOG_LEVEL: 'debug' };
      const once = await runCli(['monitor', '--once', '--relay', checked.url, '--relay', 'ws://127.0.0.1:1/', '--json'], env);
      expect(once.code, once.stderr).toBe(0);
      const summary = JSON.parse(once.stdout) as { checked: number; up: number; down: number; relays: { url: string; up: boolean }[] };
      expect(summary).toMatchObject({ checked: 2, up: 1, down: 1 });
      expect(once.stdout + once.stderr).not.toContain(secretKey);

      const text = await runCli(['monitor', '--once', '--relay', checked.url], env);
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toContain(`1 relay(s) checked: 1 up, 0 down`);
      expect(text.stdout).toContain(`up   ${checked.url}`);

      const noKey = await runCli(['monitor', '--once', '--relay', checked.url], {
        ...cli.env,
        BIGBROTR_MONITOR__PUBLISH: 'true',
        BIGBROTR_MONITOR__PUBLISH_RELAYS: checked.url,
      });
      expect(noKey.code).toBe(2);
      expect(noKey.stderr).toMatch(/identity\.secret_key: required when monitor\.publish is on/);

      const badRelay = await runCli(['monitor', '--once', '--relay', 'https://not-a-relay.example'], cli.env);
      expect(badRelay.code).toBe(2);
      expect(badRelay.stderr).toMatch(/--relay https:\/\/not-a-relay\.example: .*ws:\/\//);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await cli.dispose();
    }
  });

  it('skips relays on the blacklist', async () => {
    const test = await database();
    const listed = await relay();
    await insertCandidates(test.db, [{ url: listed.url, network: 'clearnet' }], 'seed');
    await test.db.query(`UPDATE relay SET state = 'active'`);
    const summary = await monitorOnce({
      db: test.db,
      config: configWith({ 'relay_url.blacklist': ['127.0.0.1'] }),
      logger: silentLogger(),
    });
    expect(summary.checked).toBe(0);
    expect(summary.skipped).toEqual([{ url: listed.url, reason: 'blacklisted' }]);
    expect(listed.counters.connections).toBe(0);
  });
});
