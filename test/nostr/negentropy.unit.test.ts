import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Negentropy, NegentropyError, NegentropyStorage, type NegentropyItem } from '../../src/nostr/negentropy.js';
import { boundAt, encodeVarint, INFINITE_BOUND, MessageReader, MessageWriter, messageToHex } from '../../src/nostr/negentropy-codec.js';
import { mulberry32 } from '../support/seeded-random.js';

function randomId(random: () => number): string {
  let hex = '';
  for (let word = 0; word < 8; word += 1)
    hex += Math.floor(random() * 4294967296)
      .toString(16)
      .padStart(8, '0');
  return hex;
}

function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** Fingerprint per the spec, computed independently: BigInt sum of little-endian ids, then sha256. */
function expectedFingerprint(ids: string[]): string {
  let sum = 0n;
  for (const id of ids) sum = (sum + BigInt(`0x${Buffer.from(id, 'hex').reverse().toString('hex')}`)) % 2n ** 256n;
  const little = Buffer.from(sum.toString(16).padStart(64, '0'), 'hex').reverse();
  return createHash('sha256')
    .update(Buffer.concat([little, Buffer.from(encodeVarint(ids.length))]))
    .digest('hex')
    .slice(0, 32);
}

interface Outcome {
  have: string[];
  need: string[];
  rounds: number;
  largestMessage: number;
}

/** Runs a whole client/server conversation in memory. */
function reconcile(clientItems: NegentropyItem[], serverItems: NegentropyItem[], frameSizeLimit = 0): Outcome {
  const client = new Negentropy(NegentropyStorage.fromItems(clientItems), { frameSizeLimit });
  const server = new Negentropy(NegentropyStorage.fromItems(serverItems), { frameSizeLimit });
  const outcome: Outcome = { have: [], need: [], rounds: 0, largestMessage: 0 };
  let message: string | null = client.initiate();
  while (message !== null) {
    outcome.rounds += 1;
    if (outcome.rounds > 10_000) throw new Error('reconciliation does not terminate');
    const reply = server.respond(message);
    outcome.largestMessage = Math.max(outcome.largestMessage, message.length / 2, reply.length / 2);
    const result = client.reconcile(reply);
    outcome.have.push(...result.have);
    outcome.need.push(...result.need);
    message = result.next;
  }
  return outcome;
}

/** A universe of records split 80/10/10 into shared, client-only and server-only. */
function overlappingSets(size: number, seed: number, timestamps: number) {
  const random = mulberry32(seed);
  const client: NegentropyItem[] = [];
  const server: NegentropyItem[] = [];
  const clientOnly: string[] = [];
  const serverOnly: string[] = [];
  for (let index = 0; index < size; index += 1) {
    const item = { createdAt: 1_700_000_000 + Math.floor(random() * timestamps), id: randomId(random) };
    const roll = random();
    if (roll < 0.8) {
      client.push(item);
      server.push(item);
    } else if (roll < 0.9) {
      client.push(item);
      clientOnly.push(item.id);
    } else {
      server.push(item);
      serverOnly.push(item.id);
    }
  }
  return { client, server, clientOnly: clientOnly.sort(), serverOnly: serverOnly.sort() };
}

describe('negentropy codec', () => {
  it('encodes varints as base-128 digits, most significant first, high bit on all but the last', () => {
    const known: [number, string][] = [
      [0, '00'],
      [1, '01'],
      [127, '7f'],
      [128, '8100'],
      [255, '817f'],
      [300, '822c'],
      [16383, 'ff7f'],
      [16384, '818000'],
      [1_700_000_001, '86aacfe201'],
      [2 ** 32, '9080808000'],
      [Number.MAX_SAFE_INTEGER, '8fffffffffffff7f'],
    ];
    for (const [value, hex] of known) {
      expect(hexOf(encodeVarint(value))).toBe(hex);
      expect(new MessageReader(Buffer.from(hex, 'hex')).readVarint('test')).toBe(value);
    }
    const random = mulberry32(1);
    for (let round = 0; round < 1000; round += 1) {
      const value = Math.floor(random() * 2 ** (1 + Math.floor(random() * 53)));
      const reader = new MessageReader(encodeVarint(value));
      expect(reader.readVarint('test')).toBe(value);
      expect(reader.remaining).toBe(0);
    }
    expect(() => encodeVarint(-1)).toThrow(NegentropyError);
    expect(() => encodeVarint(1.5)).toThrow(NegentropyError);
    expect(() => new MessageReader(Buffer.from('8180', 'hex')).readVarint('x')).toThrow(/truncated varint \(x\) at byte 0/);
    expect(() => new MessageReader(Buffer.from('90808080808080808000', 'hex')).readVarint('x')).toThrow(/exceeds 2\^53/);
  });

  it('delta-encodes bound timestamps (+1, 0 = infinity) followed by the id prefix', () => {
    const writer = new MessageWriter();
    writer.writeBound(boundAt(1_700_000_000));
    writer.writeBound(boundAt(1_700_000_000, Uint8Array.of(0xab)));
    writer.writeBound(boundAt(1_700_000_005, Uint8Array.of(0x01, 0x02)));
    writer.writeBound(INFINITE_BOUND);
    expect(messageToHex(writer.toBytes())).toBe(['86aacfe201', '00', '01', '01ab', '06', '020102', '00', '00'].join(''));

    const reader = new MessageReader(writer.toBytes());
    const bounds = [reader.readBound(), reader.readBound(), reader.readBound(), reader.readBound()];
    expect(bounds.map((bound) => [bound.timestamp, hexOf(bound.prefix)])).toEqual([
      [1_700_000_000, ''],
      [1_700_000_000, 'ab'],
      [1_700_000_005, '0102'],
      [Infinity, ''],
    ]);
    // Anything after an infinite bound stays infinite, as in the reference decoders.
    expect(new MessageReader(Buffer.from('00000500', 'hex')).readBound().timestamp).toBe(Infinity);
    const afterInfinity = new MessageReader(Buffer.from('00000500', 'hex'));
    afterInfinity.readBound();
    expect(afterInfinity.readBound().timestamp).toBe(Infinity);
    expect(() => new MessageReader(Buffer.from(`0121${'00'.repeat(33)}`, 'hex')).readBound()).toThrow(
      /prefix of 33 bytes is longer than 32/,
    );
    expect(() => new MessageReader(Buffer.from('0102ab', 'hex')).readBound()).toThrow(/truncated in bound id prefix/);
  });

  it('fingerprints = sha256(little-endian id sum mod 2^256 || varint(count)), first 16 bytes', () => {
    const random = mulberry32(2);
    const items = Array.from({ length: 1000 }, (_, index) => ({ createdAt: 1_000 + index, id: randomId(random) }));
    // Many all-ones ids overflow every limb: carries must ripple and wrap mod 2^256.
    for (let index = 0; index < 40; index += 1) items.push({ createdAt: 5_000 + index, id: 'ff'.repeat(32) });
    const storage = NegentropyStorage.fromItems(items);
    const ids = items.map((item) => item.id);
    for (const [begin, end] of [
      [0, 0],
      [0, 1],
      [5, 8],
      [0, 33],
      [17, 923],
      [999, 1040],
      [0, 1040],
      [1040, 1040],
    ] as const) {
      expect(hexOf(storage.fingerprint(begin, end)), `records ${begin}..${end}`).toBe(expectedFingerprint(ids.slice(begin, end)));
    }
  });
});

describe('NegentropyStorage', () => {
  it('sorts by (created_at, id) whatever the input order, and rejects bad or duplicate items', () => {
    const random = mulberry32(3);
    // 20 timestamps give long same-timestamp runs, 300 give short ones: both tie-breaking paths.
    for (const timestamps of [20, 300]) {
      const items = Array.from({ length: 600 }, () => ({ createdAt: Math.floor(random() * timestamps), id: randomId(random) }));
      const expected = [...items].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
      for (const input of [items, expected, [...expected].reverse()]) {
        const storage = NegentropyStorage.fromItems(input);
        expect(Array.from({ length: storage.size }, (_, index) => [storage.timestampAt(index), storage.idHexAt(index)])).toEqual(
          expected.map((item) => [item.createdAt, item.id]),
        );
      }
    }
    const items = Array.from({ length: 3 }, (_, index) => ({ createdAt: index, id: randomId(random) }));
    // A timestamp span too wide to pack with the index takes the comparator sort.
    const wide = [
      { createdAt: 2 ** 52, id: 'aa'.repeat(32) },
      { createdAt: 0, id: 'bb'.repeat(32) },
      { createdAt: 2 ** 52, id: '11'.repeat(32) },
    ];
    const wideStorage = NegentropyStorage.fromItems(wide);
    expect([0, 1, 2].map((index) => wideStorage.idHexAt(index))).toEqual(['bb'.repeat(32), '11'.repeat(32), 'aa'.repeat(32)]);

    expect(() => NegentropyStorage.fromItems([items[0] as NegentropyItem, { ...(items[0] as NegentropyItem) }])).toThrow(/duplicate item/);
    expect(() => NegentropyStorage.fromItems([{ createdAt: 1, id: 'zz'.repeat(32) }])).toThrow(/item 0: id must be 64 hex/);
    expect(() => NegentropyStorage.fromItems([{ createdAt: 1, id: 'ab' }])).toThrow(/item 0: id must be 64 hex/);
    expect(() => NegentropyStorage.fromItems([{ createdAt: -1, id: 'ab'.repeat(32) }])).toThrow(
      /createdAt must be a non-negative safe integer/,
    );
    expect(() => NegentropyStorage.fromItems([{ createdAt: 2 ** 53, id: 'ab'.repeat(32) }])).toThrow(/createdAt/);
  });
});

describe('Negentropy reconciliation', () => {
  for (const size of [0, 1, 10, 1_000, 100_000]) {
    for (const frameSizeLimit of [0, 4096]) {
      it(`finds exactly the differences of ${size} records (frameSizeLimit ${frameSizeLimit})`, () => {
        const sets = overlappingSets(size, 100 + size, Math.max(1, size * 3));
        const outcome = reconcile(sets.client, sets.server, frameSizeLimit);
        // Sorted copies, and each id reported only once over all rounds.
        expect([...outcome.have].sort()).toEqual(sets.clientOnly);
        expect([...outcome.need].sort()).toEqual(sets.serverOnly);
        if (frameSizeLimit > 0) expect(outcome.largestMessage).toBeLessThanOrEqual(frameSizeLimit);
      });
    }
  }

  it('reconciles many records sharing one created_at (bounds need id prefixes)', () => {
    const sets = overlappingSets(5_000, 7, 1);
    expect(new Set(sets.client.map((item) => item.createdAt)).size).toBe(1);
    for (const frameSizeLimit of [0, 4096]) {
      const outcome = reconcile(sets.client, sets.server, frameSizeLimit);
      expect([...outcome.have].sort()).toEqual(sets.clientOnly);
      expect([...outcome.need].sort()).toEqual(sets.serverOnly);
    }
  });

  it('finishes identical sets in one round trip, and one-sided sets completely', () => {
    const sets = overlappingSets(100_000, 8, 1_000_000);
    const identical = reconcile(sets.client, sets.client);
    expect(identical).toMatchObject({ have: [], need: [], rounds: 1 });

    const some = sets.server.slice(0, 3_000);
    const someIds = some.map((item) => item.id).sort();
    const emptyClient = reconcile([], some, 4096);
    expect(emptyClient.have).toEqual([]);
    expect(emptyClient.need.sort()).toEqual(someIds);
    const emptyServer = reconcile(some, []);
    expect(emptyServer.have.sort()).toEqual(someIds);
    expect(emptyServer.need).toEqual([]);
  });

  it('keeps the client and server roles apart and checks the frame size limit', () => {
    const storage = NegentropyStorage.fromItems([]);
    const client = new Negentropy(storage);
    const server = new Negentropy(storage);
    expect(() => client.reconcile('61')).toThrow(/call initiate\(\) first/);
    client.initiate();
    expect(() => client.initiate()).toThrow(/already initiated/);
    expect(() => client.respond('61')).toThrow(/respond\(\) is for the server/);
    expect(server.respond('6100000200')).toBe('6100000200');
    expect(() => server.initiate()).toThrow(/initiate\(\) called on a server/);
    expect(() => new Negentropy(storage, { frameSizeLimit: 1000 })).toThrow(/frameSizeLimit must be 0 \(unlimited\) or at least 4096/);
  });
});

interface Conversation {
  name: string;
  createdAtStep: number;
  frameSizeLimit: number;
  client: number[];
  server: number[];
  messages: string[];
  have: number[];
  need: number[];
}
interface Vectors {
  idPrefix: string;
  createdAtBase: number;
  conversations: Conversation[];
  versionNegotiation: { serverRecords: number[]; createdAtStep: number; clientMessage: string; serverReply: string };
}

describe('interoperability with the reference implementation (recorded vectors)', () => {
  const vectors = JSON.parse(readFileSync(new URL('../fixtures/negentropy-vectors.json', import.meta.url), 'utf8')) as Vectors;
  const idOf = (record: number) => createHash('sha256').update(`${vectors.idPrefix}:${record}`).digest('hex');
  const storageOf = (records: number[], step: number) =>
    NegentropyStorage.fromItems(
      records.map((record) => ({ createdAt: vectors.createdAtBase + Math.floor(record / step), id: idOf(record) })),
    );

  it('has conversations to check', () => {
    expect(vectors.conversations.map((conversation) => conversation.name)).toEqual([
      'empty',
      'small id lists',
      'client empty',
      'shared timestamps',
      'one timestamp',
      'identical',
      'frame size limit',
    ]);
  });

  for (const conversation of vectors.conversations) {
    it(`produces the reference's messages byte for byte: ${conversation.name}`, () => {
      const options = { frameSizeLimit: conversation.frameSizeLimit };
      const client = new Negentropy(storageOf(conversation.client, conversation.createdAtStep), options);
      const server = new Negentropy(storageOf(conversation.server, conversation.createdAtStep), options);
      const numberOf = new Map([...conversation.client, ...conversation.server].map((record) => [idOf(record), record]));
      const have: number[] = [];
      const need: number[] = [];
      const { messages } = conversation;
      expect(client.initiate()).toBe(messages[0]);
      for (let index = 1; index < messages.length; index += 2) {
        // Each side answers the reference's previous message, so every step is checked on its own.
        expect(server.respond(messages[index - 1] as string), `server message ${index}`).toBe(messages[index]);
        const result = client.reconcile(messages[index] as string);
        have.push(...result.have.map((id) => numberOf.get(id) as number));
        need.push(...result.need.map((id) => numberOf.get(id) as number));
        expect(result.next, `client message ${index + 1}`).toBe(messages[index + 1] ?? null);
      }
      expect(have.sort((a, b) => a - b)).toEqual(conversation.have);
      expect(need.sort((a, b) => a - b)).toEqual(conversation.need);
    });
  }

  it('answers an unsupported protocol version with its own version byte only', () => {
    const { serverRecords, createdAtStep, clientMessage, serverReply } = vectors.versionNegotiation;
    expect(serverReply).toBe('61');
    expect(new Negentropy(storageOf(serverRecords, createdAtStep)).respond(clientMessage)).toBe(serverReply);
    const client = new Negentropy(storageOf(serverRecords, createdAtStep));
    client.initiate();
    expect(() => client.reconcile('62')).toThrow(/unsupported protocol version 0x62/);
  });
});

describe('malformed messages', () => {
  const storage = NegentropyStorage.fromItems(
    Array.from({ length: 100 }, (_, index) => ({ createdAt: index, id: createHash('sha256').update(String(index)).digest('hex') })),
  );
  const respond = (hex: string) => () => new Negentropy(storage).respond(hex);

  it('reject each malformation with an error that names it', () => {
    expect(respond('')).toThrow(/empty message/);
    expect(respond('6')).toThrow(/not an even-length hex string/);
    expect(respond('61zz')).toThrow(/not an even-length hex string/);
    expect(respond('50')).toThrow(/invalid protocol version byte 0x50/);
    expect(respond('6181')).toThrow(/truncated varint \(bound timestamp\)/);
    expect(respond('610000')).toThrow(/truncated varint \(range mode\)/);
    expect(respond('61000003')).toThrow(/unknown range mode 3 at byte 1/);
    expect(respond(`61000001${'ab'.repeat(8)}`)).toThrow(/truncated in fingerprint/);
    expect(respond(`6100000205${'ab'.repeat(32)}`)).toThrow(/id list of 5 ids at byte 1 is truncated/);
    expect(respond(`61000002${'ff'.repeat(6)}7f`)).toThrow(/id list of \d+ ids at byte 1 is truncated/);
    expect(respond(`61000002${'ff'.repeat(7)}7f`)).toThrow(/varint \(id list length\) at byte 4 exceeds 2\^53/);
    expect(respond('610022')).toThrow(/prefix of 34 bytes is longer than 32/);
    // Two ranges at timestamp 0: prefix 0x80, then prefix 0x10, which lies below it.
    expect(respond('610101800001011000')).toThrow(/range bounds out of order at byte 5/);
    expect(respond(`61${'8fffffffffffff7f'}0000${'8fffffffffffff7f'}0000`)).toThrow(/bound timestamp \d+ exceeds 2\^53/);
  });

  it('never hang or fail with anything but NegentropyError on random or mutated input', () => {
    const random = mulberry32(9);
    const valid = overlappingSets(2_000, 10, 100);
    const client = new Negentropy(NegentropyStorage.fromItems(valid.client));
    const genuine = Buffer.from(client.initiate(), 'hex');
    const started = Date.now();
    let rejected = 0;
    for (let round = 0; round < 3_000; round += 1) {
      let bytes: Buffer;
      if (round % 2 === 0) {
        bytes = Buffer.from(Array.from({ length: Math.floor(random() * 200) }, () => Math.floor(random() * 256)));
        if (random() < 0.7) bytes[0] = 0x61;
      } else {
        bytes = Buffer.from(genuine.subarray(0, Math.floor(random() * (genuine.length + 1))));
        for (let flips = 0; flips < 3 && bytes.length > 1; flips += 1)
          bytes[1 + Math.floor(random() * (bytes.length - 1))] = Math.floor(random() * 256);
      }
      try {
        expect(typeof new Negentropy(storage).respond(bytes.toString('hex'))).toBe('string');
      } catch (error) {
        expect(error).toBeInstanceOf(NegentropyError);
        rejected += 1;
      }
    }
    expect(rejected).toBeGreaterThan(100);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
