/**
 * The network benchmark's generated Nostr network (deterministic from a seed): R relays with the
 * behaviours of public relay implementations (src/test-relay/profiles.ts), some offering NIP-77, a
 * few hostile, 5 % dead; U unique events from K authors, each on a heavy-tailed number of relays
 * (about 4 on average, the first relays holding most); one kind 10002 relay list per author naming
 * relays, so that discovery from the 3 seeded relays must find the rest.
 *
 * The U signed events are cached as NDJSON in the OS temp directory (signing them is the slow part);
 * where each event lives is recomputed from the seed. The relay lists name URLs that exist only once
 * ports are chosen, so they are signed by the driver at run time (`signRelayLists`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import * as tinySecp from 'tiny-secp256k1';
import type { NostrEvent } from '../src/nostr/event.js';
import { computeEventId } from '../src/nostr/event-id.js';
import { bytesToHex, hexToBytes } from '../src/nostr/hex.js';
import type { Misbehaviour, TestRelayOptions } from '../src/test-relay/options.js';
import { relayProfile } from '../src/test-relay/profiles.js';
import { mulberry32 } from '../test/support/seeded-random.js';

export interface NetworkSize {
  relays: number;
  events: number;
  authors: number;
}

export const DEFAULT_NETWORK: NetworkSize = { relays: 100, events: 500_000, authors: 2_000 };
export const SEED_RELAYS = 3;
/** One second holding more events than any relay's cap: pagination must split it. */
export const CROWDED_SECOND = 1_700_000_000;
const CROWDED_EVENTS = 2_000;
const FIRST_CREATED_AT = 1_609_459_200; // 2021-01-01
const LAST_CREATED_AT = 1_764_460_800; // 2025-11-30

export type RelayRole = 'honest' | 'hostile' | 'dead';

export interface PlannedRelay {
  index: number;
  role: RelayRole;
  /** The public relay implementation it behaves like (src/test-relay/profiles.ts). */
  profile: string;
  negentropy: boolean;
  /** For hostile relays: what they do wrong (none of it hides events they hold). */
  misbehaviour: Partial<Misbehaviour>;
}

/** A seeded PRNG (mulberry32) from a string: the same seed gives the same network. */
export function seededRandom(seed: string): () => number {
  return mulberry32(createHash('sha256').update(seed).digest().readUInt32LE(0));
}

const NON_NEGENTROPY_PROFILES = ['nostr-rs-relay', 'khatru-sqlite', 'haven', 'nostream', 'nostr-relay-nestjs', 'rnostr'];
const HOSTILE_BEHAVIOURS: Partial<Misbehaviour>[] = [
  { garbageFrames: true },
  { duplicateEvents: true },
  { outOfFilterEvents: 3 },
  { deepNestingNotice: 5_000 },
];

/** Relay roles and behaviours: every 4th relay strfry-like with NIP-77 (25 %), 5 % dead, 4 % hostile. */
export function planRelays(count: number): PlannedRelay[] {
  return Array.from({ length: count }, (_, index) => {
    const dead = index >= SEED_RELAYS && index % 20 === 7;
    const hostile = !dead && index >= SEED_RELAYS && index % 25 === 11;
    const negentropy = index % 4 === 0;
    const profile = negentropy ? 'strfry' : (NON_NEGENTROPY_PROFILES[index % NON_NEGENTROPY_PROFILES.length] as string);
    return {
      index,
      role: dead ? 'dead' : hostile ? 'hostile' : 'honest',
      profile,
      negentropy,
      misbehaviour: hostile ? (HOSTILE_BEHAVIOURS[Math.floor(index / 25) % HOSTILE_BEHAVIOURS.length] as Partial<Misbehaviour>) : {},
    };
  });
}

/** The test relay options of a planned relay: its profile's behaviours plus its misbehaviour. */
export function relayOptions(relay: PlannedRelay): Partial<TestRelayOptions> {
  return {
    ...relayProfile(relay.profile).options,
    negentropy: relay.negentropy,
    misbehaviour: relay.misbehaviour,
    nip11: { name: `network bench relay ${relay.index}` },
  };
}

/**
 * Which relays hold each event: a heavy-tailed number of copies (Pareto, mean about 4, at most the
 * live relays) placed on distinct live relays drawn by a Zipf weight, so the first relays hold most.
 * Returns, per event index, the relay indexes.
 */
export function placeEvents(relays: PlannedRelay[], events: number, seed: string): Uint16Array[] {
  const random = seededRandom(`${seed}:placement`);
  const live = relays.filter((relay) => relay.role !== 'dead').map((relay) => relay.index);
  const weights = live.map((_, rank) => 1 / (rank + 1) ** 0.9);
  const placement: Uint16Array[] = [];
  for (let event = 0; event < events; event += 1) {
    // Pareto with alpha 1.6 and scale 1.3: ceil() gives 1 copy for about half the events, mean ~4.
    const copies = Math.min(live.length, Math.ceil(1.3 / (1 - random()) ** (1 / 1.6)));
    const chosen = new Set<number>();
    let total = weights.reduce((sum, weight, position) => (chosen.has(position) ? sum : sum + weight), 0);
    while (chosen.size < copies) {
      let pick = random() * total;
      let position = 0;
      for (; position < weights.length - 1; position += 1) {
        if (chosen.has(position)) continue;
        pick -= weights[position] as number;
        if (pick <= 0) break;
      }
      while (chosen.has(position)) position = (position + 1) % weights.length;
      chosen.add(position);
      total -= weights[position] as number;
    }
    placement.push(Uint16Array.from([...chosen].map((position) => live[position] as number)));
  }
  return placement;
}

export function authorSecretKey(seed: string, index: number): string {
  return createHash('sha256').update(`${seed}:author:${index}`).digest('hex');
}

interface Author {
  secret: Uint8Array;
  pubkey: string;
}

function authors(seed: string, count: number): Author[] {
  return Array.from({ length: count }, (_, index) => {
    const secret = hexToBytes(authorSecretKey(seed, index));
    return { secret, pubkey: bytesToHex(tinySecp.xOnlyPointFromScalar(secret)) };
  });
}

function sign(author: Author, kind: number, createdAt: number, tags: string[][], content: string): NostrEvent {
  const unsigned = { pubkey: author.pubkey, created_at: createdAt, kind, tags, content };
  const id = computeEventId(unsigned);
  return { id, ...unsigned, sig: bytesToHex(tinySecp.signSchnorr(hexToBytes(id), author.secret, randomBytes(32))) };
}

const HASHTAGS = Array.from({ length: 300 }, (_, index) => `topic${index}`);
const WORDS = [
  'relay',
  'nostr',
  'zap',
  'note',
  'archive',
  'signal',
  'bitcoin',
  'lightning',
  'client',
  'event',
  'key',
  'follow',
  'thread',
  'media',
  'music',
  'photo',
];

/**
 * U events: notes (with hashtags and mentions, Zipf-popular), reactions and reposts of earlier notes,
 * comments; created_at spread over five years, plus one crowded second. Content length varies.
 */
function generate(size: NetworkSize, seed: string): NostrEvent[] {
  const random = seededRandom(`${seed}:events`);
  const people = authors(seed, size.authors);
  const zipf = (n: number) => Math.min(n - 1, Math.floor(n ** random() - 1));
  const events: NostrEvent[] = [];
  const notes: NostrEvent[] = [];
  const crowdedEvery = Math.max(2, Math.floor(size.events / CROWDED_EVENTS));
  const seen = new Set<string>();
  for (let index = 0; events.length < size.events; index += 1) {
    const author = people[zipf(people.length)] as Author;
    const crowded = index % crowdedEvery === 0;
    const createdAt = crowded ? CROWDED_SECOND : FIRST_CREATED_AT + Math.floor(random() * (LAST_CREATED_AT - FIRST_CREATED_AT));
    const roll = random();
    let event: NostrEvent;
    if (roll < 0.25 && notes.length > 0) {
      const target = notes[Math.floor(random() * notes.length)] as NostrEvent;
      event = sign(
        author,
        7,
        createdAt,
        [
          ['e', target.id],
          ['p', target.pubkey],
          ['k', '1'],
        ],
        random() < 0.8 ? '+' : '🤙',
      );
    } else if (roll < 0.3 && notes.length > 0) {
      const target = notes[Math.floor(random() * notes.length)] as NostrEvent;
      event = sign(
        author,
        6,
        createdAt,
        [
          ['e', target.id, ''],
          ['p', target.pubkey],
        ],
        '',
      );
    } else {
      const words = 3 + Math.floor(random() ** 3 * 120);
      const content = Array.from({ length: words }, () => WORDS[Math.floor(random() * WORDS.length)]).join(' ');
      const tags: string[][] = [];
      const hashtags = Math.floor(random() * 3);
      for (let tag = 0; tag < hashtags; tag += 1) tags.push(['t', HASHTAGS[zipf(HASHTAGS.length)] as string]);
      const mentions = Math.floor(random() ** 2 * 4);
      for (let mention = 0; mention < mentions; mention += 1) tags.push(['p', (people[zipf(people.length)] as Author).pubkey]);
      event = sign(author, roll < 0.4 ? 1111 : 1, createdAt, tags, content);
      if (notes.length < 50_000) notes.push(event);
      else notes[Math.floor(random() * notes.length)] = event;
    }
    // Two identical reactions in one second are one event: the archive would rightly count it once.
    if (seen.has(event.id)) continue;
    seen.add(event.id);
    events.push(event);
  }
  return events;
}

export function networkFixturePath(size: NetworkSize, seed: string): string {
  return join(tmpdir(), `bigbrotr-bench-network-${seed}-${size.events}-${size.authors}-v1.ndjson`);
}

/** Generates and caches the U events (a few minutes the first time), returns the file's path. */
export function ensureNetworkEvents(size: NetworkSize, seed: string, log: (line: string) => void): string {
  const path = networkFixturePath(size, seed);
  if (!existsSync(path)) {
    log(`signing ${size.events.toLocaleString('en-US')} events for the network benchmark (cached in ${path})`);
    const events = generate(size, seed);
    const partial = `${path}.${process.pid}.partial`;
    writeFileSync(partial, events.map((event) => JSON.stringify(event)).join('\n') + '\n');
    renameSync(partial, path);
  }
  return path;
}

export async function readNetworkEvents(path: string): Promise<NostrEvent[]> {
  const events: NostrEvent[] = [];
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    if (line) events.push(JSON.parse(line) as NostrEvent);
  }
  return events;
}

/**
 * One kind 10002 list per author naming 4 relays (every relay, dead ones included, is named by some
 * list), published on the seed relays and on one relay of the list: following them finds every relay.
 * Returns the lists and where each is placed.
 */
export function signRelayLists(
  urls: string[],
  relays: PlannedRelay[],
  size: NetworkSize,
  seed: string,
  createdAt: number,
): { event: NostrEvent; relays: number[] }[] {
  const random = seededRandom(`${seed}:lists`);
  const people = authors(seed, size.authors);
  const honest = relays.filter((relay) => relay.role === 'honest').map((relay) => relay.index);
  return people.map((author, index) => {
    const named = new Set<number>([index % urls.length]);
    while (named.size < 4) named.add(Math.floor(random() * urls.length));
    const event = sign(
      author,
      10002,
      createdAt,
      [...named].map((relay) => ['r', urls[relay] as string]),
      '',
    );
    const placed = new Set<number>([0, 1, 2].slice(0, SEED_RELAYS));
    placed.add(honest[index % honest.length] as number);
    return { event, relays: [...placed] };
  });
}

/** What the driver hands the relay host processes (written as JSON). */
export interface NetworkPlan {
  seed: string;
  size: NetworkSize;
  eventsPath: string;
  relays: PlannedRelay[];
  /** Planned port of each relay (dead relays' ports have nothing listening). */
  ports: number[];
  relayLists: { event: NostrEvent; relays: number[] }[];
}
