/**
 * The data vending machine (NIP-90) end to end: a real relay (ours, on loopback), the machine as a
 * service over a real archive, and a customer written with nostr-tools that publishes job requests
 * and reads the results and feedback from the relay, as any NIP-90 client would.
 */
import {
  finalizeEvent,
  generateSecretKey as clientSecretKey,
  getPublicKey as clientPublicKey,
  verifyEvent as clientVerifyEvent,
} from 'nostr-tools/pure';
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config/loader.js';
import type { Config } from '../../src/config/schema.js';
import { insertEventBatch } from '../../src/db/events.js';
import { storeRelayChecks } from '../../src/db/relay-checks.js';
import { getOrCreateRelayIds } from '../../src/db/relays.js';
import type { NostrEvent } from '../../src/nostr/event.js';
import { generateSecretKey, getPublicKey, signEvent } from '../../src/nostr/sign.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createDvmService } from '../../src/services/dvm/dvm-service.js';
import { runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { testSecretKey } from '../support/events.js';
import { startTestRelay, type TestRelay } from '../support/relay/server.js';

useWebSocketImplementation(WebSocket);

const SOURCE_A = 'wss://relay-a.example.com/';
const SOURCE_B = 'wss://relay-b.example.com/';
const NOW = Math.floor(Date.now() / 1000);

let relay: TestRelay;
let replyRelay: TestRelay;
let database: TestDatabase;
let customer: Relay;
const customerKey = clientSecretKey();
const machineKey = generateSecretKey();
const machinePubkey = getPublicKey(machineKey);
const stops: (() => Promise<void>)[] = [];

// The archive: a note, five reactions to it (three "+", two "🤙"), ten tagged notes, seen on two relays.
const author = testSecretKey('dvm', 1);
const note = signEvent({ kind: 1, content: 'the note', tags: [['t', 'archive']], created_at: NOW - 1_000 }, author);
const reactions = ['+', '+', '+', '🤙', '🤙'].map((content, index) =>
  signEvent(
    {
      kind: 7,
      content,
      tags: [
        ['e', note.id],
        ['p', note.pubkey],
      ],
      created_at: NOW - 900 + index,
    },
    testSecretKey('dvm', 10 + index),
  ),
);
// A reaction whose content is `__proto__`: group keys come from anyone's events.
const hostileReaction = signEvent(
  { kind: 7, content: '__proto__', tags: [['e', 'd'.repeat(64)]], created_at: NOW - 850 },
  testSecretKey('dvm', 30),
);
const tagged = Array.from({ length: 10 }, (_, index) =>
  signEvent({ kind: 1, content: `tagged ${index} ${'x'.repeat(300)}`, tags: [['t', 'nostr']], created_at: NOW - 800 + index }, author),
);

function configWith(overrides: Record<string, unknown> = {}): Config {
  return loadConfig({
    env: {},
    overrides: {
      'identity.secret_key': machineKey,
      'dvm.enabled': true,
      'dvm.relays': [relay.url],
      'relay_url.allow_private': true,
      'dvm.max_result_bytes': 3_000,
      ...overrides,
    },
  }).config;
}

async function startMachine(config: Config): Promise<() => Promise<void>> {
  const service = createDvmService({ db: database.db, config: () => config, logger: silentLogger() });
  const abort = new AbortController();
  const running = service.run(abort.signal);
  const stop = async () => {
    abort.abort();
    await running;
  };
  stops.push(stop);
  return stop;
}

beforeAll(async () => {
  relay = await startTestRelay();
  replyRelay = await startTestRelay();
  database = await createTestDatabase();
  const ids = await getOrCreateRelayIds(
    database.db,
    [
      { url: SOURCE_A, network: 'clearnet' },
      { url: SOURCE_B, network: 'clearnet' },
    ],
    'seed',
  );
  const relayA = ids.get(SOURCE_A) as number;
  const relayB = ids.get(SOURCE_B) as number;
  await insertEventBatch(database.db, [note, ...reactions, hostileReaction, ...tagged], relayA);
  await insertEventBatch(database.db, [note, ...tagged.slice(0, 4)], relayB);
  const day = (daysAgo: number, hour: number) => new Date((NOW - daysAgo * 86_400 - hour * 3_600) * 1000);
  await storeRelayChecks(database.db, relayA, [
    { type: 'open', checkedAt: day(1, 1), ok: true, rttMs: 40 },
    { type: 'open', checkedAt: day(1, 2), ok: false, reason: 'connection refused' },
    { type: 'open', checkedAt: day(0, 0), ok: true, rttMs: 20 },
    { type: 'nip11', checkedAt: day(2, 0), ok: true, document: { name: 'relay A', supported_nips: [1, 11] } },
    { type: 'nip11', checkedAt: day(0, 0), ok: true, document: { name: 'relay A', supported_nips: [1, 11, 77] } },
  ]);
  await startMachine(configWith());
  customer = await Relay.connect(relay.url);
});

afterAll(async () => {
  customer?.close();
  for (const stop of stops) await stop();
  await relay?.close();
  await replyRelay?.close();
  await database?.dispose();
});

/** Publishes a job request as the customer and waits for the machine's first reply to it (result or feedback). */
async function ask(
  kind: number,
  tags: string[][],
  content = '',
  options: { key?: Uint8Array } = {},
): Promise<{ request: NostrEvent; reply: NostrEvent }> {
  const request = finalizeEvent(
    { kind, tags, content, created_at: Math.floor(Date.now() / 1000) },
    options.key ?? customerKey,
  ) as NostrEvent;
  const reply = await new Promise<NostrEvent>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no reply to kind ${kind} within 15 s`)), 15_000);
    const subscription = customer.subscribe([{ kinds: [kind + 1000, 7000], '#e': [request.id], authors: [machinePubkey] }], {
      onevent(event) {
        clearTimeout(timer);
        subscription.close();
        resolve(event as NostrEvent);
      },
    });
    void customer.publish(request as Parameters<Relay['publish']>[0]);
  });
  expect(clientVerifyEvent({ ...reply }), 'the reply is signed by the machine').toBe(true);
  return { request, reply };
}

const tag = (event: NostrEvent, name: string) => event.tags.find((candidate) => candidate[0] === name);

describe('data vending machine (NIP-90)', () => {
  it('announces its job kinds (NIP-89, kind 31990)', async () => {
    const deadline = Date.now() + 10_000;
    let announcement: NostrEvent | undefined;
    while (!announcement && Date.now() < deadline) {
      announcement = relay.store.query({ kinds: [31990], authors: [machinePubkey] }, 1)[0];
      if (!announcement) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(announcement?.tags.filter((candidate) => candidate[0] === 'k').map((candidate) => candidate[1])).toEqual([
      '5400',
      '5410',
      '5411',
      '5412',
    ]);
    expect(JSON.parse(announcement?.content ?? '{}')).toMatchObject({ name: 'bigbrotr archive' });
  });

  it('counts events (registry kind 5400) with NIP-90 result tags, grouped by content as the registry example does', async () => {
    const { request, reply } = await ask(5400, [['param', 'group', 'content']], JSON.stringify([{ kinds: [7], '#e': [note.id] }]));
    expect(reply.kind).toBe(6400);
    expect(JSON.parse(reply.content)).toEqual({ '+': 3, '🤙': 2 });
    expect(JSON.parse(tag(reply, 'request')?.[1] ?? 'null')).toEqual(JSON.parse(JSON.stringify(request)));
    expect(tag(reply, 'e')).toEqual(['e', request.id, relay.url]);
    expect(tag(reply, 'p')).toEqual(['p', clientPublicKey(customerKey)]);

    const byValue = await ask(5400, [
      ['i', 'nostr', 'text'],
      ['i', 'archive', 'text'],
    ]);
    expect(byValue.reply.content).toBe('11');
    expect(byValue.reply.tags.filter((candidate) => candidate[0] === 'i')).toEqual([
      ['i', 'nostr', 'text'],
      ['i', 'archive', 'text'],
    ]);
    const onB = await ask(5400, [
      ['i', 'nostr', 'text'],
      ['param', 'relay', SOURCE_B],
    ]);
    expect(onB.reply.content).toBe('4');
    const twoLevels = await ask(
      5400,
      [
        ['param', 'group', 'kind'],
        ['param', 'group', 'pubkey'],
      ],
      JSON.stringify([{ ids: [note.id, reactions[0]?.id] }]),
    );
    expect(JSON.parse(twoLevels.reply.content)).toEqual({ '1': { [note.pubkey]: 1 }, '7': { [reactions[0]?.pubkey as string]: 1 } });

    // A group key named `__proto__` is an ordinary key: nothing reaches Object.prototype (the machine runs in this process).
    const hostile = await ask(
      5400,
      [
        ['param', 'group', 'content'],
        ['param', 'group', 'kind'],
      ],
      JSON.stringify([{ ids: [hostileReaction.id] }]),
    );
    expect(Object.hasOwn(JSON.parse(hostile.reply.content) as object, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>)['7']).toBeUndefined();
  });

  it('returns archived events by filter (5410), byte-exact, in pages bounded by size, with a cursor until none is left', async () => {
    const seen: NostrEvent[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const { reply } = await ask(5410, [
        ['i', JSON.stringify({ kinds: [1], '#t': ['nostr'] }), 'text'],
        ...(cursor ? [['param', 'cursor', cursor]] : []),
      ]);
      expect(reply.kind).toBe(6410);
      const events = JSON.parse(reply.content) as NostrEvent[];
      expect(tag(reply, 'count')).toEqual(['count', String(events.length)]);
      expect(Buffer.byteLength(JSON.stringify(reply))).toBeLessThanOrEqual(3_000);
      for (const event of events) expect(clientVerifyEvent({ ...event }), 'archived events arrive as signed').toBe(true);
      seen.push(...events);
      cursor = tag(reply, 'cursor')?.[1];
      pages += 1;
    } while (cursor && pages < 20);
    expect(pages).toBeGreaterThan(1);
    expect(seen.map((event) => event.id)).toEqual([...tagged].reverse().map((event) => event.id));

    // A filter's own limit bounds the answer (NIP-01).
    const limited = await ask(5410, [['i', JSON.stringify({ kinds: [1], '#t': ['nostr'], limit: 2 }), 'text']]);
    expect((JSON.parse(limited.reply.content) as NostrEvent[]).map((event) => event.id)).toEqual([tagged[9]?.id, tagged[8]?.id]);
  });

  it('tells where events were seen (5411) and what a relay did over time (5412)', async () => {
    const unknown = 'f'.repeat(64);
    const provenance = await ask(5411, [
      ['i', note.id, 'event'],
      ['i', unknown, 'event'],
    ]);
    expect(provenance.reply.kind).toBe(6411);
    const answer = JSON.parse(provenance.reply.content) as Record<
      string,
      { archived: boolean; seen_on: number; relays: { relay: string }[] }
    >;
    expect(answer[note.id]).toMatchObject({ archived: true, seen_on: 2 });
    expect(answer[note.id]?.relays.map((sighting) => sighting.relay).sort()).toEqual([SOURCE_A, SOURCE_B]);
    expect(answer[unknown]).toEqual({ archived: false, seen_on: 0, relays: [] });

    const { reply } = await ask(5412, [['i', SOURCE_A, 'url']]);
    expect(reply.kind).toBe(6412);
    const history = JSON.parse(reply.content) as {
      relay: { url: string };
      days: { checks: number; ok: number; median_open_rtt_ms: number | null }[];
      nip11: { document: { supported_nips: number[] }; checks: number }[];
    };
    expect(history.relay.url).toBe(SOURCE_A);
    expect(history.days.map((entry) => entry.checks).reduce((a, b) => a + b, 0)).toBe(3);
    expect(history.days.map((entry) => entry.ok).reduce((a, b) => a + b, 0)).toBe(2);
    expect(history.nip11.map((entry) => entry.document.supported_nips)).toEqual([
      [1, 11, 77],
      [1, 11],
    ]);
  });

  it('answers what it cannot do with a kind 7000 error that names the fault, and ignores requests for other providers', async () => {
    const badFilter = await ask(5410, [['i', JSON.stringify({ kinds: 'x' }), 'text']]);
    expect(badFilter.reply.kind).toBe(7000);
    expect(tag(badFilter.reply, 'status')).toEqual(['status', 'error', 'invalid: kinds must be an array']);
    const encrypted = await ask(5400, [['p', machinePubkey], ['encrypted']], 'ciphertext');
    expect(tag(encrypted.reply, 'status')?.[2]).toMatch(/encrypted job requests are not supported/);
    const unknownRelay = await ask(5412, [['i', 'wss://never-seen.example.com', 'url']]);
    expect(tag(unknownRelay.reply, 'status')?.[2]).toBe('wss://never-seen.example.com/ is not in the archive');

    const elsewhere = finalizeEvent(
      { kind: 5400, tags: [['p', 'e'.repeat(64)]], content: '', created_at: Math.floor(Date.now() / 1000) },
      customerKey,
    );
    await customer.publish(elsewhere);
    const fromTheFuture = finalizeEvent(
      { kind: 5400, tags: [], content: '', created_at: Math.floor(Date.now() / 1000) + 3_600 },
      customerKey,
    );
    await customer.publish(fromTheFuture);
    // Jobs are answered in arrival order: once a later request is answered, the earlier one was seen.
    await ask(5400, [['p', machinePubkey]]);
    expect(relay.store.query({ '#e': [elsewhere.id], authors: [machinePubkey] }, 10)).toEqual([]);
    expect(relay.store.query({ '#e': [fromTheFuture.id], authors: [machinePubkey] }, 10)).toEqual([]);
  });

  it('sends results to the relays the request names, and never answers one request twice, even after a restart', async () => {
    const { request } = await ask(5400, [['relays', replyRelay.url]]);
    const deadline = Date.now() + 5_000;
    while (replyRelay.store.query({ '#e': [request.id] }, 1).length === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(replyRelay.store.query({ '#e': [request.id] }, 1).map((event) => event.kind)).toEqual([6400]);

    for (const stop of stops.splice(0)) await stop();
    await startMachine(configWith({ 'dvm.announce': false }));
    // The new instance reads every request of the last ten minutes again; the next answer comes after them.
    await ask(5411, [['i', note.id, 'event']]);
    const replies = relay.store.query({ kinds: [6400, 6410, 6411, 6412, 7000], authors: [machinePubkey] }, 1_000);
    const perRequest = new Map<string, number>();
    for (const reply of replies) perRequest.set(tag(reply, 'e')?.[1] as string, (perRequest.get(tag(reply, 'e')?.[1] as string) ?? 0) + 1);
    expect(replies.length).toBeGreaterThan(10);
    expect(
      [...perRequest.values()].every((count) => count === 1),
      JSON.stringify([...perRequest]),
    ).toBe(true);
  });
});

describe('bigbrotr dvm', () => {
  it('refuses to start without a key or relays, naming the option', async () => {
    // The configuration is checked before the database is opened: no database is needed to see the error.
    const env = { BIGBROTR_DATABASE__DATA_DIR: '/nonexistent/bigbrotr-dvm-test' };
    const noKey = await runCli(['dvm'], env);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('identity.secret_key: required by the data vending machine');
    const noRelays = await runCli(['dvm'], { ...env, BIGBROTR_IDENTITY__SECRET_KEY: machineKey });
    expect(noRelays.code).toBe(2);
    expect(noRelays.stderr).toContain('dvm.relays: empty');
    expect(noRelays.stderr).not.toContain(machineKey);
  });
});
