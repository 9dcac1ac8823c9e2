/** What the test relay does: NIP-01 limits, NIP-11 document, AUTH, and switchable misbehaviours. */
export interface Misbehaviour {
  /** Answer every REQ as if since/until were absent. */
  ignoreSinceUntil: boolean;
  /** Mix this many stored events that do NOT match the filter into each REQ answer. */
  outOfFilterEvents: number;
  /** Send every Nth event with a corrupted signature (0 = never). */
  badSignatureEvery: number;
  /** Send every Nth event with a corrupted id (0 = never). */
  badIdEvery: number;
  /** Send every event of a REQ answer twice. */
  duplicateEvents: boolean;
  /** Never send EOSE. */
  neverEose: boolean;
  /** Send EOSE after this many events, then the rest (-1 = off). */
  earlyEoseAfter: number;
  /** Drop the connection (terminate) after sending this many events in one REQ (-1 = off). */
  dropAfterEvents: number;
  /** Send CLOSED after this many events of a REQ (-1 = off). */
  closeSubscriptionAfter: number;
  /** Before answering a REQ, send garbage frames: non-JSON text, a binary frame, JSON of the wrong shape, an oversized frame. */
  garbageFrames: boolean;
  /** Delay every message by this many milliseconds. */
  delayMs: number;
  /** Answer CLOSED "rate-limited:" to REQs beyond this many per second per connection (0 = off). */
  rateLimitPerSecond: number;
  /** Refuse the WebSocket upgrade with HTTP 503. */
  refuseUpgrade: boolean;
  /** Accept TCP but never complete the WebSocket handshake. */
  hangHandshake: boolean;
  /** Refuse NIP-45 COUNT (CLOSED "unsupported:"), like relays that do not implement it. */
  noCount: boolean;
  /** How NIP-11 is served: the document, HTML, broken JSON, wrong types, slowly, or huge. */
  nip11Mode:
    | 'normal'
    | 'html'
    | 'invalid-json'
    | 'wrong-types'
    | 'slow'
    | 'huge'
    | 'missing'
    | 'redirect'
    | 'redirect-loop'
    | 'redirect-private'
    | 'redirect-to';
  /** With nip11Mode `redirect-to`: where NIP-11 requests are redirected (an SSRF probe). */
  nip11RedirectTo: string;
  /** Refuse every EVENT with this OK message (e.g. `restricted: paid relay`); empty = accept. */
  refuseWrites: string;
  /** Never answer EVENT with OK. */
  noOk: boolean;
  /** Refuse EVENT with `auth-required:` until the connection has authenticated (NIP-42). */
  authRequiredForWrites: boolean;
  /** Before answering a REQ, send a NOTICE holding an array nested this deep (0 = off; ~5,000 crashed JSON.stringify). */
  deepNestingNotice: number;
  /** Accept REQs and never answer them (no event, no EOSE, no CLOSED). */
  neverAnswerReq: boolean;
  /** Answer only the first REQ of each connection; ignore every later one. */
  answerOnlyFirstReq: boolean;
  /** Send every message one byte per WebSocket frame, waiting this many ms between bytes (-1 = off). */
  byteAtATimeMs: number;
  /** Add this to every COUNT answer (0 = exact). */
  countOffset: number;
  /** Answer NEG-OPEN with NEG-ERR and this text (empty = off). */
  negentropyRefusal: string;
}

/** How a relay answers a filter it will not run (a list too long, too many filters, a filter too wide). */
export type FilterRefusalMode =
  /** NOTICE, and the REQ is ignored: no EOSE (nostr-relay-nestjs, nostream). */
  | 'notice'
  /** NOTICE, then EOSE with no events (khatru over eventstore's SQL back ends). */
  | 'notice-then-eose'
  /** CLOSED with the text (strfry, rnostr). */
  | 'closed';

/** Which of several events of one second a capped page holds first. */
export type SameSecondOrder = 'id-asc' | 'id-desc' | 'newest-stored-first' | 'unspecified';

export interface TestRelayOptions {
  /** Silent cap on `limit` (strfry: 500). */
  maxLimit: number;
  /** Limit applied when a filter has none. */
  defaultLimit: number;
  /** Keep every version of replaceable/addressable events (default: only the newest, like real relays). */
  keepAllVersions: boolean;
  maxSubscriptions: number;
  maxSubIdLength: number;
  /** NIP-42: `true` = every REQ needs AUTH; a list = only REQs asking for those kinds. */
  authRequired: boolean | number[];
  /** Extra NIP-11 fields (merged over the generated document). */
  nip11: Record<string, unknown>;
  /** NIP-77 NEG-OPEN/NEG-MSG/NEG-CLOSE; when off, they get the NOTICE any unknown message type gets. */
  negentropy: boolean;
  /** Answer NEG-OPEN with NEG-ERR "blocked:" when the filter matches more events (0 = unlimited). */
  negentropyMaxRecords: number;
  /** Negentropy frame size limit of the relay's replies in bytes (0 = unlimited, else >= 4096). */
  negentropyFrameSizeLimit: number;
  misbehaviour: Partial<Misbehaviour>;
  /** Serve wss:// (and https:// for NIP-11) with this PEM key and certificate. */
  tls?: { key: string; cert: string };
  /** Host name in the relay's URL (e.g. `localhost`, or a name a test DNS server resolves); default 127.0.0.1. */
  urlHost?: string;
  /** TCP port to listen on (default 0: any free port); the network benchmark names its relays' ports before they start. */
  port?: number;
  /** Longest lists per filter and most filters per REQ the relay runs (0 = unlimited). */
  filterLimits: { kinds: number; authors: number; ids: number; filters: number };
  filterRefusal: FilterRefusalMode;
  /** Refusal texts per list (`{max}` is replaced by the limit). */
  refusalTexts: { kinds: string; authors: string; ids: string; filters: string };
  /** Refuse filters with no ids, authors, kinds or tags (khatru's NoEmptyFilters) with this CLOSED text (empty = accept). */
  narrowFilterRefusal: string;
  sameSecondOrder: SameSecondOrder;
  /** `limit` of a REQ with several filters: each filter's own, or the first filter's for the whole answer (nostream). */
  multiFilterLimit: 'per-filter' | 'first-filter';
  /** Send an event once per filter it matches (nostr-rs-relay, rnostr) instead of once per REQ. */
  duplicatesAcrossFilters: boolean;
  /** How unknown message types (and NEG-* without NIP-77) are answered: a NOTICE with `unknownMessageText`, or silence. */
  unknownMessage: 'notice' | 'silent';
  unknownMessageText: string;
  /** NIP-45: exact counts; refused with CLOSED `countRefusal`; or treated as an unknown message. */
  count: 'exact' | 'closed' | 'unknown';
  countRefusal: string;
  /** Kinds served only to authenticated readers (strfry: 4 and 1059); dropped from REQ answers after the limit is applied. */
  withheldKinds: number[];
  /** Whether those withheld events are listed in NIP-77 reconciliation anyway (strfry with a prebuilt negentropy tree). */
  withheldInNegentropy: boolean;
  /** Rate limit on REQs per connection: over `perSecond`, answer CLOSED or NOTICE with `text` (0 = off). */
  reqRateLimit: { perSecond: number; mode: 'closed' | 'notice'; text: string };
  /** Close connections that sent nothing for this long (0 = never). */
  idleCloseMs: number;
  /** Optional NIPs and NIP-11 limits the relay enforces (whatever its NIP-11 document claims). */
  enforces: Partial<Enforced>;
}

/** What a relay that implements these NIPs does; all off by default (the relay ignores `search` and expiration tags, like many). */
export interface Enforced {
  /** NIP-50: `search` filters match events whose content contains the term (case-insensitive). */
  search: boolean;
  /** NIP-40: events whose `expiration` has passed are refused on publish and never served. */
  expiration: boolean;
  /** NIP-09: a kind 5 deletes the author's events it names in `e` tags. */
  deletion: boolean;
  /** NIP-70: an event with a `["-"]` tag is refused unless its author authenticated (NIP-42). */
  protectedEvents: boolean;
  /** NIP-11 `created_at_lower_limit` / `created_at_upper_limit` in seconds (0 = no limit). */
  createdAtLowerLimit: number;
  createdAtUpperLimit: number;
  /** NIP-11 `max_content_length` (characters) and `max_event_tags` (0 = no limit). */
  maxContentLength: number;
  maxEventTags: number;
}

export const DEFAULT_MISBEHAVIOUR: Misbehaviour = {
  ignoreSinceUntil: false,
  outOfFilterEvents: 0,
  badSignatureEvery: 0,
  badIdEvery: 0,
  duplicateEvents: false,
  neverEose: false,
  earlyEoseAfter: -1,
  dropAfterEvents: -1,
  closeSubscriptionAfter: -1,
  garbageFrames: false,
  delayMs: 0,
  rateLimitPerSecond: 0,
  refuseUpgrade: false,
  hangHandshake: false,
  noCount: false,
  nip11Mode: 'normal',
  nip11RedirectTo: '',
  refuseWrites: '',
  noOk: false,
  authRequiredForWrites: false,
  deepNestingNotice: 0,
  neverAnswerReq: false,
  answerOnlyFirstReq: false,
  byteAtATimeMs: -1,
  countOffset: 0,
  negentropyRefusal: '',
};

export const DEFAULT_RELAY_OPTIONS: Omit<TestRelayOptions, 'misbehaviour'> = {
  maxLimit: 500,
  defaultLimit: 500,
  keepAllVersions: false,
  maxSubscriptions: 20,
  maxSubIdLength: 64,
  authRequired: false,
  nip11: {},
  negentropy: true,
  negentropyMaxRecords: 0,
  negentropyFrameSizeLimit: 0,
  filterLimits: { kinds: 0, authors: 0, ids: 0, filters: 0 },
  filterRefusal: 'closed',
  refusalTexts: {
    kinds: 'invalid: too many kinds (max {max})',
    authors: 'invalid: too many authors (max {max})',
    ids: 'invalid: too many ids (max {max})',
    filters: 'invalid: too many filters (max {max})',
  },
  narrowFilterRefusal: '',
  sameSecondOrder: 'id-asc',
  multiFilterLimit: 'per-filter',
  duplicatesAcrossFilters: false,
  unknownMessage: 'notice',
  unknownMessageText: 'invalid: unknown message type {type}',
  count: 'exact',
  countRefusal: 'unsupported: COUNT is not implemented',
  withheldKinds: [],
  withheldInNegentropy: false,
  reqRateLimit: { perSecond: 0, mode: 'closed', text: 'rate-limited: slow down' },
  idleCloseMs: 0,
  enforces: {},
};

export const DEFAULT_ENFORCED: Enforced = {
  search: false,
  expiration: false,
  deletion: false,
  protectedEvents: false,
  createdAtLowerLimit: 0,
  createdAtUpperLimit: 0,
  maxContentLength: 0,
  maxEventTags: 0,
};
