/**
 * Relay profiles: the test relay behaving as public relay implementations behave towards a client
 * that archives (how they cap `limit`, cap filter lists and filter counts and say so, order one
 * second's events, answer COUNT, NIP-77 and unknown messages, withhold events, rate-limit). Each is
 * written from the implementation's source; docs/relay-behaviours.md gives the file each fact comes
 * from. Behaviours only: the code is ours.
 */
import type { TestRelayOptions } from './options.js';

export interface RelayProfile {
  name: string;
  /** Which implementation and version (commit) the behaviours were read from. */
  source: string;
  options: Partial<TestRelayOptions>;
}

export const RELAY_PROFILES: readonly RelayProfile[] = [
  {
    name: 'strfry',
    source: 'hoytech/strfry f8a56a85 (C++, LMDB)',
    options: {
      maxLimit: 500,
      defaultLimit: 500,
      // maxReqFilterSize 200; ids/authors lists are capped by a 65,535-byte budget (2,047 ids).
      filterLimits: { kinds: 0, authors: 2_047, ids: 2_047, filters: 200 },
      filterRefusal: 'closed',
      refusalTexts: {
        kinds: 'ERROR: bad req: too many kinds',
        authors: 'ERROR: bad req: error parsing authors: total filter items too large',
        ids: 'ERROR: bad req: error parsing ids: total filter items too large',
        filters: 'ERROR: bad req: arr too big',
      },
      sameSecondOrder: 'newest-stored-first',
      unknownMessage: 'notice',
      unknownMessageText: 'ERROR: bad msg: unknown cmd',
      count: 'exact',
      negentropy: true,
      negentropyMaxRecords: 1_000_000,
      negentropyFrameSizeLimit: 500_000,
      withheldKinds: [4, 1059],
      withheldInNegentropy: false,
    },
  },
  {
    name: 'nostr-rs-relay',
    source: 'scsibug/nostr-rs-relay 64cfcaf4 v0.9.0 (Rust, SQLite)',
    options: {
      // SQLite: no cap at all on `limit`.
      maxLimit: 1_000_000,
      defaultLimit: 1_000_000,
      sameSecondOrder: 'unspecified',
      duplicatesAcrossFilters: true,
      unknownMessage: 'notice',
      unknownMessageText: 'could not parse command',
      count: 'unknown',
      negentropy: false,
      maxSubscriptions: 32,
      maxSubIdLength: 256,
    },
  },
  {
    name: 'khatru-sqlite',
    source: 'fiatjaf/khatru 9f99b982 v0.19.1 over fiatjaf/eventstore sqlite3 (Go)',
    options: {
      maxLimit: 100,
      defaultLimit: 100,
      filterLimits: { kinds: 10, authors: 500, ids: 500, filters: 0 },
      filterRefusal: 'notice-then-eose',
      refusalTexts: { kinds: 'too many kinds', authors: 'too many authors', ids: 'too many ids', filters: 'too many filters' },
      sameSecondOrder: 'id-asc',
      unknownMessage: 'notice',
      unknownMessageText: 'failed to parse envelope: unknown envelope label',
      count: 'closed',
      countRefusal: 'unsupported: this relay does not support NIP-45',
      negentropy: false,
    },
  },
  {
    name: 'haven',
    source: 'bitvora/haven 45d835fb (khatru v0.19.1, eventstore lmdb)',
    options: {
      maxLimit: 1_500,
      defaultLimit: 375,
      narrowFilterRefusal: "blocked: can't handle empty filters",
      sameSecondOrder: 'newest-stored-first',
      unknownMessage: 'notice',
      unknownMessageText: 'failed to parse envelope: unknown envelope label',
      // COUNT on LMDB: the count loop does not advance; the answer never comes.
      count: 'unknown',
      negentropy: false,
    },
  },
  {
    name: 'nostream',
    source: 'Cameri/nostream b6133a18 (TypeScript, PostgreSQL)',
    options: {
      // max_limit 5000 is advertised, never enforced.
      maxLimit: 1_000_000,
      defaultLimit: 500,
      nip11: { limitation: { max_limit: 5_000, max_subscriptions: 10, max_filters: 10 } },
      filterLimits: { kinds: 0, authors: 0, ids: 0, filters: 10 },
      filterRefusal: 'notice',
      refusalTexts: {
        kinds: 'invalid: too many kinds',
        authors: 'invalid: too many authors',
        ids: 'invalid: too many ids',
        filters: 'Subscription rejected: Too many filters: Number of filters per susbscription must be less then or equal to {max}',
      },
      multiFilterLimit: 'first-filter',
      sameSecondOrder: 'unspecified',
      unknownMessage: 'notice',
      unknownMessageText: 'invalid: [1] "value" does not match any of the allowed types',
      count: 'unknown',
      negentropy: false,
      maxSubscriptions: 10,
      maxSubIdLength: 256,
    },
  },
  {
    name: 'nostr-relay-nestjs',
    source: 'CodyTseng/nostr-relay-nestjs 47ee02fe with @nostr-relay/* 0.0.36 (Node, zod validation)',
    options: {
      maxLimit: 1_000,
      defaultLimit: 100,
      filterLimits: { kinds: 20, authors: 1_000, ids: 1_000, filters: 0 },
      filterRefusal: 'notice',
      refusalTexts: {
        kinds: 'invalid: must be less than or equal to {max} kinds at "[0].kinds"',
        authors: 'invalid: must be less than or equal to {max} authors at "[0].authors"',
        ids: 'invalid: must be less than or equal to {max} ids at "[0].ids"',
        filters: 'invalid: too many filters',
      },
      sameSecondOrder: 'unspecified',
      // Unknown message types (COUNT, NEG-*) are dropped without a word.
      unknownMessage: 'silent',
      count: 'unknown',
      negentropy: false,
      reqRateLimit: { perSecond: 100, mode: 'closed', text: 'rate-limited: slow down there chief' },
      maxSubscriptions: 20,
      maxSubIdLength: 128,
    },
  },
  {
    name: 'rnostr',
    source: 'rnostr/rnostr 0983e527 (Rust, LMDB)',
    options: {
      maxLimit: 300,
      defaultLimit: 300,
      filterLimits: { kinds: 0, authors: 0, ids: 0, filters: 10 },
      filterRefusal: 'closed',
      refusalTexts: {
        kinds: 'invalid: too many kinds',
        authors: 'invalid: too many authors',
        ids: 'invalid: too many ids',
        filters: 'invalid: limitation.max_filters {max}',
      },
      sameSecondOrder: 'newest-stored-first',
      duplicatesAcrossFilters: true,
      unknownMessage: 'notice',
      unknownMessageText: 'Unsupported message',
      count: 'unknown',
      negentropy: false,
      maxSubscriptions: 20,
    },
  },
];

export function relayProfile(name: string): RelayProfile {
  const profile = RELAY_PROFILES.find((candidate) => candidate.name === name);
  if (!profile)
    throw new Error(`no relay profile ${JSON.stringify(name)} (known: ${RELAY_PROFILES.map((candidate) => candidate.name).join(', ')})`);
  return profile;
}
