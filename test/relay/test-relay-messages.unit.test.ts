/**
 * The test relay's pure parts: reading client frames and filters, NIP-01 filter matching, the store's
 * limit and window, the refusals its options make, and the misbehaviours that only compute.
 */
import { describe, expect, it } from 'vitest';
import type { NostrEvent } from '../../src/nostr/event.js';
import { eventIdOf, isServedType, parseClientMessage, parseFilters } from '../../src/test-relay/client-message.js';
import { hasExpired, matchesFilter, parseFilter, type Filter } from '../../src/test-relay/filter.js';
import { deepNestingNoticeText, mixInStrangers, tamper } from '../../src/test-relay/misbehaviours.js';
import { nip11Redirect } from '../../src/test-relay/nip11.js';
import { DEFAULT_MISBEHAVIOUR, DEFAULT_RELAY_OPTIONS } from '../../src/test-relay/options.js';
import { asksOnlyWithheldKinds, enforcedRefusal, filterRefusal, needsAuth, unknownMessageNotice } from '../../src/test-relay/refusals.js';
import type { RelaySettings } from '../../src/test-relay/relay-state.js';
import { EventStore } from '../../src/test-relay/store.js';

const hex = (char: string) => char.repeat(64);

function event(overrides: Partial<NostrEvent> = {}): NostrEvent {
  return { id: hex('1'), pubkey: hex('a'), created_at: 1_000, kind: 1, tags: [], content: 'hello', sig: '0'.repeat(128), ...overrides };
}

const settings = (overrides: Partial<RelaySettings> = {}): RelaySettings => ({ ...DEFAULT_RELAY_OPTIONS, ...overrides });
const frame = (text: string) => Buffer.from(text, 'utf8');

describe('client frames', () => {
  it('reads a JSON array whose first element is a string as a message of that type', () => {
    expect(parseClientMessage(frame('["REQ","sub",{"kinds":[1]}]'), false)).toEqual({ ok: true, message: ['REQ', 'sub', { kinds: [1] }] });
    expect(parseClientMessage(frame('["WHATEVER"]'), false)).toEqual({ ok: true, message: ['WHATEVER'] });
  });

  it('answers binary frames, non-JSON and JSON of the wrong shape with the NOTICE text for each', () => {
    expect(parseClientMessage(frame('["REQ","sub"]'), true)).toEqual({ ok: false, notice: 'invalid: binary frames are not supported' });
    expect(parseClientMessage(frame('["REQ",'), false)).toEqual({ ok: false, notice: 'invalid: message is not JSON' });
    for (const text of ['{"type":"REQ"}', '[]', '[1,"sub"]', '"REQ"', 'null'])
      expect(parseClientMessage(frame(text), false)).toEqual({ ok: false, notice: 'invalid: message is not an array' });
  });

  it('reads an OK id only when the event has a string id', () => {
    expect(eventIdOf({ id: 'abc' })).toBe('abc');
    expect(eventIdOf({ id: 7 })).toBe('');
    expect(eventIdOf(null)).toBe('');
    expect(eventIdOf('event')).toBe('');
  });

  it('serves NEG-* only with NIP-77, every other type either way', () => {
    expect(isServedType('NEG-OPEN', true)).toBe(true);
    expect(isServedType('NEG-OPEN', false)).toBe(false);
    expect(isServedType('REQ', false)).toBe(true);
  });
});

describe('filters', () => {
  it('parses the NIP-01 fields and search, and names the first malformed field', () => {
    const filter = { ids: [hex('1')], authors: [hex('a')], kinds: [1, 7], since: 5, until: 9, limit: 3, '#e': [hex('2')], search: 'x' };
    expect(parseFilter(filter)).toEqual(filter);
    expect(parseFilter([])).toBe('filter is not an object');
    expect(parseFilter(null)).toBe('filter is not an object');
    expect(parseFilter({ ids: [1] })).toBe('ids must be an array of strings');
    expect(parseFilter({ '#p': 'x' })).toBe('#p must be an array of strings');
    expect(parseFilter({ kinds: [1.5] })).toBe('kinds must be an array of integers');
    expect(parseFilter({ since: -1 })).toBe('since must be a non-negative integer');
    expect(parseFilter({ limit: '10' })).toBe('limit must be a non-negative integer');
    expect(parseFilter({ colour: 'red' })).toBe('unknown filter field colour');
  });

  it('parses a REQ’s filters in order, or returns the first error', () => {
    expect(parseFilters([{ kinds: [1] }, { authors: [hex('a')] }])).toEqual([{ kinds: [1] }, { authors: [hex('a')] }]);
    expect(parseFilters([])).toEqual([]);
    expect(parseFilters([{ kinds: [1] }, { until: 'now' }, { ids: 3 }])).toBe('until must be a non-negative integer');
  });

  it('matches ids, authors and kinds as lists of alternatives, all given fields together', () => {
    const note = event({ id: hex('1'), pubkey: hex('a'), kind: 1 });
    expect(matchesFilter(note, {})).toBe(true);
    expect(matchesFilter(note, { ids: [hex('2'), hex('1')] })).toBe(true);
    expect(matchesFilter(note, { ids: [hex('2')] })).toBe(false);
    expect(matchesFilter(note, { authors: [hex('a')], kinds: [0, 1] })).toBe(true);
    expect(matchesFilter(note, { authors: [hex('b')], kinds: [1] })).toBe(false);
    expect(matchesFilter(note, { authors: [hex('a')], kinds: [7] })).toBe(false);
    expect(matchesFilter(note, { kinds: [] })).toBe(false);
  });

  it('matches #tags on the first value of tags of that name, every tag filter required', () => {
    const reply = event({
      tags: [['e', hex('2'), 'wss://relay.example'], ['t', 'nostr'], ['p']],
    });
    expect(matchesFilter(reply, { '#e': [hex('2')] })).toBe(true);
    expect(matchesFilter(reply, { '#e': [hex('3'), hex('2')], '#t': ['nostr'] })).toBe(true);
    expect(matchesFilter(reply, { '#e': [hex('2')], '#t': ['bitcoin'] })).toBe(false);
    expect(matchesFilter(reply, { '#e': ['wss://relay.example'] })).toBe(false);
    expect(matchesFilter(reply, { '#p': [''] })).toBe(false);
    expect(matchesFilter(reply, { '#x': ['nostr'] })).toBe(false);
  });

  it('keeps since and until inclusive, unless told to ignore time', () => {
    const note = event({ created_at: 100 });
    expect(matchesFilter(note, { since: 100, until: 100 })).toBe(true);
    expect(matchesFilter(note, { since: 101 })).toBe(false);
    expect(matchesFilter(note, { until: 99 })).toBe(false);
    expect(matchesFilter(note, { since: 101, until: 99 }, { ignoreTime: true })).toBe(true);
    expect(matchesFilter(note, { since: 101, kinds: [7] }, { ignoreTime: true })).toBe(false);
  });

  it('applies limit and the since/until window in the store, newest first, ties by lowest id', () => {
    const store = new EventStore(false);
    const events = [3, 1, 2, 2, 5, 4].map((created_at, index) => event({ id: hex(String(index)), created_at }));
    store.addMany(events);
    const times = (filter: Filter, limit: number) => store.query(filter, limit).map((found) => [found.created_at, found.id[0]]);
    expect(times({}, 3)).toEqual([
      [5, '4'],
      [4, '5'],
      [3, '0'],
    ]);
    expect(times({ since: 2, until: 3 }, 10)).toEqual([
      [3, '0'],
      [2, '2'],
      [2, '3'],
    ]);
    expect(times({ ids: [hex('1'), hex('4'), hex('9')] }, 1)).toEqual([[5, '4']]);
    expect(store.query({ kinds: [7] }, 10)).toEqual([]);
  });

  it('knows a NIP-40 expiration has passed only for a whole number of seconds not after now', () => {
    expect(hasExpired(event({ tags: [['expiration', '100']] }), 100)).toBe(true);
    expect(hasExpired(event({ tags: [['expiration', '101']] }), 100)).toBe(false);
    expect(hasExpired(event({ tags: [['expiration', 'soon']] }), 100)).toBe(false);
    expect(hasExpired(event(), 100)).toBe(false);
  });
});

describe('refusals', () => {
  it('refuses too many filters or too long lists with the profile’s text and its cap', () => {
    const capped = settings({ filterLimits: { kinds: 2, authors: 0, ids: 1, filters: 2 } });
    expect(filterRefusal([{ kinds: [1, 2] }, { ids: [hex('1')] }], capped)).toBeUndefined();
    expect(filterRefusal([{}, {}, {}], capped)).toBe('invalid: too many filters (max 2)');
    expect(filterRefusal([{ kinds: [1, 2, 3] }], capped)).toBe('invalid: too many kinds (max 2)');
    expect(filterRefusal([{ kinds: [1] }, { ids: [hex('1'), hex('2')] }], capped)).toBe('invalid: too many ids (max 1)');
    expect(filterRefusal([{ authors: Array.from({ length: 50 }, (_, index) => String(index)) }], capped)).toBeUndefined();
  });

  it('refuses filters with no ids, authors, kinds or tags when the relay refuses empty filters', () => {
    const khatru = settings({ narrowFilterRefusal: 'blocked: empty filter' });
    expect(filterRefusal([{ since: 5, limit: 10 }], khatru)).toBe('blocked: empty filter');
    expect(filterRefusal([{ '#t': ['nostr'] }], khatru)).toBeUndefined();
    expect(filterRefusal([{ since: 5 }], settings())).toBeUndefined();
  });

  it('needs NIP-42 for every REQ, for protected kinds, or never', () => {
    expect(needsAuth([{ kinds: [1] }], settings({ authRequired: true }))).toBe(true);
    expect(needsAuth([{ kinds: [1] }], settings({ authRequired: false }))).toBe(false);
    const dms = settings({ authRequired: [4] });
    expect(needsAuth([{ kinds: [1] }], dms)).toBe(false);
    expect(needsAuth([{ kinds: [1] }, { kinds: [4] }], dms)).toBe(true);
    expect(needsAuth([{ authors: [hex('a')] }], dms)).toBe(true);
  });

  it('sees a REQ asking only for withheld kinds', () => {
    const strfry = settings({ withheldKinds: [4, 1059] });
    expect(asksOnlyWithheldKinds([{ kinds: [4] }, { kinds: [1059, 4] }], strfry)).toBe(true);
    expect(asksOnlyWithheldKinds([{ kinds: [4, 1] }], strfry)).toBe(false);
    expect(asksOnlyWithheldKinds([{ kinds: [4] }, { authors: [hex('a')] }], strfry)).toBe(false);
    expect(asksOnlyWithheldKinds([{ kinds: [4] }], settings())).toBe(false);
  });

  it('answers unknown types with the profile’s NOTICE, cut to 20 characters of type, or not at all', () => {
    expect(unknownMessageNotice('COUNT', settings())).toEqual(['NOTICE', 'invalid: unknown message type COUNT']);
    expect(unknownMessageNotice('X'.repeat(30), settings({ unknownMessageText: '{type}?' }))).toEqual(['NOTICE', `${'X'.repeat(20)}?`]);
    expect(unknownMessageNotice('COUNT', settings({ unknownMessage: 'silent' }))).toBeUndefined();
  });

  it('refuses events under the NIPs and NIP-11 limits the relay enforces, and only those', () => {
    const now = 10_000;
    const strict = settings({
      enforces: {
        expiration: true,
        protectedEvents: true,
        createdAtLowerLimit: 100,
        createdAtUpperLimit: 10,
        maxContentLength: 5,
        maxEventTags: 1,
      },
    });
    const fine = event({ created_at: now, content: 'short' });
    expect(enforcedRefusal(fine, new Set(), strict, now)).toBeUndefined();
    expect(enforcedRefusal(event({ created_at: now, tags: [['expiration', '9999']] }), new Set(), strict, now)).toBe(
      'invalid: event has expired',
    );
    const protectedNote = event({ created_at: now, content: '', tags: [['-']] });
    expect(enforcedRefusal(protectedNote, new Set(), strict, now)).toMatch(/^auth-required:/);
    expect(enforcedRefusal(protectedNote, new Set([protectedNote.pubkey]), strict, now)).toBeUndefined();
    expect(enforcedRefusal(event({ created_at: now - 101, content: '' }), new Set(), strict, now)).toBe(
      'invalid: created_at is too far in the past',
    );
    expect(enforcedRefusal(event({ created_at: now + 11, content: '' }), new Set(), strict, now)).toBe(
      'invalid: created_at is too far in the future',
    );
    expect(enforcedRefusal(event({ created_at: now, content: 'longer' }), new Set(), strict, now)).toBe(
      'invalid: content longer than 5 characters',
    );
    expect(
      enforcedRefusal(
        event({
          created_at: now,
          content: '',
          tags: [
            ['t', 'a'],
            ['t', 'b'],
          ],
        }),
        new Set(),
        strict,
        now,
      ),
    ).toBe('invalid: more than 1 tags');
    expect(
      enforcedRefusal(event({ created_at: 0, content: 'longer', tags: [['expiration', '1']] }), new Set(), settings(), now),
    ).toBeUndefined();
  });
});

describe('misbehaviours that only compute', () => {
  it('corrupts every Nth event’s signature, or id, changing one character', () => {
    const note = event();
    const badSignatures = { ...DEFAULT_MISBEHAVIOUR, badSignatureEvery: 2 };
    expect(tamper(note, 1, badSignatures)).toBe(note);
    const tampered = tamper(note, 2, badSignatures);
    expect(tampered.id).toBe(note.id);
    expect(tampered.sig).not.toBe(note.sig);
    expect([...tampered.sig].filter((char, index) => char !== note.sig[index])).toHaveLength(1);
    const badIds = tamper(note, 3, { ...DEFAULT_MISBEHAVIOUR, badIdEvery: 3 });
    expect(badIds.id).not.toBe(note.id);
    expect(badIds.id.slice(0, 63)).toBe(note.id.slice(0, 63));
    expect(tamper(note, 4, DEFAULT_MISBEHAVIOUR)).toBe(note);
  });

  it('nests a NOTICE array as deep as told, still valid JSON', () => {
    const text = deepNestingNoticeText(3);
    expect(text).toBe('["NOTICE",[[[]]]]');
    expect(JSON.parse(text)).toEqual(['NOTICE', [[[]]]]);
  });

  it('mixes in stored events that match none of the filters, after the first event', () => {
    const wanted = [event({ id: hex('1') }), event({ id: hex('2') })];
    const stored = [...wanted, event({ id: hex('3'), kind: 7 }), event({ id: hex('4'), kind: 7 }), event({ id: hex('5'), kind: 7 })];
    const answer = [...wanted];
    mixInStrangers(answer, stored, [{ kinds: [1] }], 2);
    expect(answer.map((found) => found.id[0])).toEqual(['1', '3', '4', '2']);
    const empty: NostrEvent[] = [];
    mixInStrangers(empty, stored, [{ kinds: [1] }], 1);
    expect(empty.map((found) => found.id[0])).toEqual(['3']);
  });

  it('redirects NIP-11 the way each redirect mode says, and never from /moved', () => {
    const mode = (nip11Mode: (typeof DEFAULT_MISBEHAVIOUR)['nip11Mode']) => ({ nip11Mode, nip11RedirectTo: 'http://elsewhere.example/' });
    expect(nip11Redirect(mode('normal'), '/')).toBeUndefined();
    expect(nip11Redirect(mode('redirect'), '/')).toBe('/moved');
    expect(nip11Redirect(mode('redirect'), '/moved')).toBeUndefined();
    expect(nip11Redirect(mode('redirect-loop'), '/')).toBe('/');
    expect(nip11Redirect(mode('redirect-private'), '/')).toBe('http://10.255.255.1/');
    expect(nip11Redirect(mode('redirect-to'), undefined)).toBe('http://elsewhere.example/');
  });
});
