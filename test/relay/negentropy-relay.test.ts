import { beforeAll, describe, expect, it } from 'vitest';
import { Negentropy, NegentropyStorage } from '../../src/nostr/negentropy.js';
import type { NostrEvent } from '../../src/nostr/event.js';
import type { TestRelay } from '../support/relay/server.js';
import type { RawClient } from '../support/relay-client.js';
import { relayHarness } from '../support/relay-harness.js';
import { generateEvents } from '../support/events.js';

const { relay, client } = relayHarness();

const isNeg = (subId: string) => (message: unknown[]) => (message[0] === 'NEG-MSG' || message[0] === 'NEG-ERR') && message[1] === subId;
const sortedIds = (events: NostrEvent[]) => events.map((event) => event.id).sort();

/** Waits for the next NEG-MSG / NEG-ERR of `subId` that has not been returned before. */
function nextNegMessage(connection: RawClient, subId: string, seen: Set<unknown[]>): Promise<unknown[]> {
  return connection
    .waitFor((message) => isNeg(subId)(message) && !seen.has(message))
    .then((message) => {
      seen.add(message);
      return message;
    });
}

interface SyncOutcome {
  have: string[];
  need: string[];
  rounds: number;
  largestReply: number;
}

/** Runs NIP-77 as the client over a raw WebSocket until our side has nothing more to ask. */
async function sync(connection: RawClient, subId: string, filter: object, local: NostrEvent[]): Promise<SyncOutcome> {
  const session = new Negentropy(NegentropyStorage.fromItems(local.map((event) => ({ createdAt: event.created_at, id: event.id }))));
  const seen = new Set<unknown[]>();
  const outcome: SyncOutcome = { have: [], need: [], rounds: 0, largestReply: 0 };
  connection.send(['NEG-OPEN', subId, filter, session.initiate()]);
  for (;;) {
    const reply = await nextNegMessage(connection, subId, seen);
    if (reply[0] === 'NEG-ERR') throw new Error(`relay answered ${JSON.stringify(reply)}`);
    const hex = reply[2] as string;
    outcome.rounds += 1;
    outcome.largestReply = Math.max(outcome.largestReply, hex.length / 2);
    const result = session.reconcile(hex);
    outcome.have.push(...result.have);
    outcome.need.push(...result.need);
    if (result.next === null) break;
    connection.send(['NEG-MSG', subId, result.next]);
  }
  connection.send(['NEG-CLOSE', subId]);
  return outcome;
}

async function supportedNips(target: TestRelay): Promise<number[]> {
  const response = await fetch(target.httpUrl, { headers: { accept: 'application/nostr+json' } });
  return ((await response.json()) as { supported_nips: number[] }).supported_nips;
}

let notes: NostrEvent[];
let reactions: NostrEvent[];
let clientOnly: NostrEvent[];
beforeAll(() => {
  notes = generateEvents({ count: 600, kinds: [1], seed: 'neg-notes', createdAt: [1_700_000_000, 1_700_000_400] });
  reactions = generateEvents({ count: 40, kinds: [7], seed: 'neg-reactions' });
  clientOnly = generateEvents({ count: 15, kinds: [1], seed: 'neg-client-only', createdAt: [1_700_000_000, 1_700_000_400] });
});

describe('test relay: NIP-77 negentropy', () => {
  it('reconciles a client holding part of the matching events: need = what only the relay has', async () => {
    const server = await relay();
    server.addEvents([...notes, ...reactions]);
    expect(await supportedNips(server)).toContain(77);
    const local = [...notes.filter((_, index) => index % 3 !== 0), ...clientOnly, ...reactions.slice(0, 5)];
    const outcome = await sync(await client(server), 'neg-1', { kinds: [1] }, local);
    // Reactions are outside the filter: the relay leaves them out, so the client "has" its 5 reactions too.
    expect(outcome.need.sort()).toEqual(sortedIds(notes.filter((_, index) => index % 3 === 0)));
    expect(outcome.have.sort()).toEqual(sortedIds([...clientOnly, ...reactions.slice(0, 5)]));
  });

  it('keeps every reply within negentropyFrameSizeLimit over several round trips', async () => {
    const server = await relay({ negentropyFrameSizeLimit: 4096 });
    server.addEvents(notes);
    const local = notes.filter((_, index) => index % 2 === 0);
    const outcome = await sync(await client(server), 'neg-framed', {}, local);
    expect(outcome.need.sort()).toEqual(sortedIds(notes.filter((_, index) => index % 2 === 1)));
    expect(outcome.have).toEqual([]);
    expect(outcome.rounds).toBeGreaterThan(2);
    expect(outcome.largestReply).toBeLessThanOrEqual(4096);
  });

  it('answers NEG-MSG after NEG-CLOSE, for unknown ids and after bad input with NEG-ERR "closed:" / "invalid:"', async () => {
    const server = await relay();
    server.addEvents(notes.slice(0, 100));
    const connection = await client(server);
    const seen = new Set<unknown[]>();
    const session = new Negentropy(NegentropyStorage.fromItems([]));
    connection.send(['NEG-OPEN', 'neg-a', {}, session.initiate()]);
    expect((await nextNegMessage(connection, 'neg-a', seen))[0]).toBe('NEG-MSG');
    connection.send(['NEG-CLOSE', 'neg-a']);
    connection.send(['NEG-MSG', 'neg-a', '6100000200']);
    expect(await nextNegMessage(connection, 'neg-a', seen)).toEqual(['NEG-ERR', 'neg-a', expect.stringMatching(/^closed: /)]);

    connection.send(['NEG-OPEN', 'neg-b', {}, '6100000200']);
    expect((await nextNegMessage(connection, 'neg-b', seen))[0]).toBe('NEG-MSG');
    connection.send(['NEG-MSG', 'neg-b', '61000003']);
    expect(await nextNegMessage(connection, 'neg-b', seen)).toEqual(['NEG-ERR', 'neg-b', 'invalid: unknown range mode 3 at byte 1']);
    connection.send(['NEG-MSG', 'neg-b', '6100000200']);
    expect(await nextNegMessage(connection, 'neg-b', seen)).toEqual(['NEG-ERR', 'neg-b', expect.stringMatching(/^closed: /)]);

    connection.send(['NEG-OPEN', 'neg-c', { kinds: 'one' }, '6100000200']);
    expect(await nextNegMessage(connection, 'neg-c', seen)).toEqual(['NEG-ERR', 'neg-c', 'invalid: kinds must be an array of integers']);
    connection.send(['NEG-OPEN', 'neg-d', {}, 'not hex']);
    expect(await nextNegMessage(connection, 'neg-d', seen)).toEqual([
      'NEG-ERR',
      'neg-d',
      expect.stringMatching(/^invalid: message is not/),
    ]);
  });

  it('answers an unsupported protocol version with its own version byte', async () => {
    const server = await relay();
    const connection = await client(server);
    connection.send(['NEG-OPEN', 'neg-v2', {}, '6200000200']);
    expect(await connection.waitFor(isNeg('neg-v2'))).toEqual(['NEG-MSG', 'neg-v2', '61']);
  });

  it('with negentropy off, answers NEG-OPEN with a NOTICE like a relay without NIP-77, and does not list 77', async () => {
    const server = await relay({ negentropy: false });
    server.addEvents(notes.slice(0, 10));
    expect(await supportedNips(server)).not.toContain(77);
    const connection = await client(server);
    connection.send(['NEG-OPEN', 'neg-off', {}, '6100000200']);
    const notice = await connection.waitFor((message) => message[0] === 'NOTICE');
    expect(notice).toEqual(['NOTICE', 'invalid: unknown message type NEG-OPEN']);
    expect(connection.messages.some((message) => Array.isArray(message) && isNeg('neg-off')(message))).toBe(false);
  });

  it('refuses filters matching more than negentropyMaxRecords with NEG-ERR "blocked:"', async () => {
    const server = await relay({ negentropyMaxRecords: 50 });
    server.addEvents([...notes.slice(0, 100), ...reactions]);
    const connection = await client(server);
    connection.send(['NEG-OPEN', 'neg-big', {}, '6100000200']);
    expect(await connection.waitFor(isNeg('neg-big'))).toEqual([
      'NEG-ERR',
      'neg-big',
      'blocked: too many records, this relay reconciles at most 50',
    ]);
    // A narrower filter fits and reconciles.
    const outcome = await sync(connection, 'neg-small', { kinds: [7] }, reactions.slice(10));
    expect(outcome.need.sort()).toEqual(sortedIds(reactions.slice(0, 10)));
    expect(outcome.have).toEqual([]);
  });
});
