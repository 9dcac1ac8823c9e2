// database-under-test: none
/**
 * What the archive relay reads from a client frame (pure): the command it becomes, or the NIP-01 reply
 * that answers it outright, and the `type` label the request counter gives it.
 */
import { describe, expect, it } from 'vitest';
import { MAX_SUBID_LENGTH, parseClientMessage, type ParsedMessage } from '../../src/api/archive-relay/messages.js';
import type { FilterBounds } from '../../src/nostr/client-filters.js';

const bounds: FilterBounds = { maxFilters: 3, maxValues: 2, maxLimit: 500 };
const id = 'ab'.repeat(32);

function parse(message: unknown): ParsedMessage {
  return parseClientMessage(Buffer.from(JSON.stringify(message)), false, bounds);
}

function parseText(text: string): ParsedMessage {
  return parseClientMessage(Buffer.from(text), false, bounds);
}

describe('archive relay client messages: REQ, COUNT, CLOSE', () => {
  it('reads a REQ into its subscription id and checked filters, the limit capped at max_limit', () => {
    expect(parse(['REQ', 'sub 1', { kinds: [1, 7], since: 10, '#t': ['nostr'], limit: 20 }, { authors: [id], limit: 9999 }])).toEqual({
      label: 'req',
      kind: 'command',
      command: {
        type: 'REQ',
        subId: 'sub 1',
        filters: { ok: true, value: { filters: [{ kinds: [1, 7], since: 10, tags: { t: ['nostr'] } }, { authors: [id] }], limit: 500 } },
      },
    });
  });

  it('reads a COUNT like a REQ; a filter without limit asks for max_limit', () => {
    expect(parse(['COUNT', 'c', { ids: [id] }])).toEqual({
      label: 'count',
      kind: 'command',
      command: { type: 'COUNT', subId: 'c', filters: { ok: true, value: { filters: [{ ids: [id] }], limit: 500 } } },
    });
  });

  it('reads a CLOSE into the subscription it ends, and answers one without an id with a NOTICE', () => {
    expect(parse(['CLOSE', 'sub 1'])).toEqual({ label: 'close', kind: 'command', command: { type: 'CLOSE', subId: 'sub 1' } });
    expect(parse(['CLOSE'])).toEqual({ label: 'close', kind: 'reply', reply: ['NOTICE', 'invalid: CLOSE needs a subscription id'] });
    expect(parse(['CLOSE', 7])).toEqual({ label: 'close', kind: 'reply', reply: ['NOTICE', 'invalid: CLOSE needs a subscription id'] });
  });

  it('reads the frame whatever form `ws` delivers it in (Buffer, fragments, ArrayBuffer)', () => {
    const text = JSON.stringify(['CLOSE', 'é🤙']);
    const bytes = Buffer.from(text);
    const expected = { label: 'close', kind: 'command', command: { type: 'CLOSE', subId: 'é🤙' } };
    expect(parseClientMessage([bytes.subarray(0, 9), bytes.subarray(9)], false, bounds)).toEqual(expected);
    const arrayBuffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
    expect(parseClientMessage(arrayBuffer, false, bounds)).toEqual(expected);
  });
});

describe('archive relay client messages: subscription ids', () => {
  it('accepts ids of 1 to 64 characters', () => {
    const longest = 'x'.repeat(MAX_SUBID_LENGTH);
    expect(MAX_SUBID_LENGTH).toBe(64);
    const parsed = parse(['REQ', longest, {}]);
    expect(parsed.kind === 'command' && parsed.command.type === 'REQ' && parsed.command.subId).toBe(longest);
  });

  it('answers an id past 64 characters with CLOSED, echoing only its first 64', () => {
    const tooLong = 'y'.repeat(64) + 'z'.repeat(1000);
    for (const [type, label] of [
      ['REQ', 'req'],
      ['COUNT', 'count'],
    ] as const) {
      expect(parse([type, tooLong, {}])).toEqual({
        label,
        kind: 'reply',
        reply: ['CLOSED', 'y'.repeat(64), 'invalid: the subscription id must have 1 to 64 characters'],
      });
    }
  });

  it('answers an empty id with CLOSED', () => {
    expect(parse(['REQ', '', {}])).toEqual({
      label: 'req',
      kind: 'reply',
      reply: ['CLOSED', '', 'invalid: the subscription id must have 1 to 64 characters'],
    });
  });

  it('answers an id that is not a string (or missing) with a NOTICE, having no id to close', () => {
    const notice = ['NOTICE', 'invalid: the subscription id must be a string'];
    expect(parse(['REQ', 42, {}])).toEqual({ label: 'req', kind: 'reply', reply: notice });
    expect(parse(['COUNT', null, {}])).toEqual({ label: 'count', kind: 'reply', reply: notice });
    expect(parse(['REQ'])).toEqual({ label: 'req', kind: 'reply', reply: notice });
  });
});

describe('archive relay client messages: bad filters', () => {
  /** The refusal a REQ's filters carry (the handler sends it as CLOSED after the rate check). */
  function filterRefusal(message: unknown[]): string | undefined {
    const parsed = parse(message);
    if (parsed.kind !== 'command' || parsed.command.type === 'CLOSE' || parsed.command.filters.ok) return undefined;
    return parsed.command.filters.reason;
  }

  it('keeps the subscription id and the NIP-01 reason of the first bad filter', () => {
    expect(filterRefusal(['REQ', 's'])).toBe('invalid: at least one filter is required');
    expect(filterRefusal(['REQ', 's', {}, {}, {}, {}])).toBe('invalid: too many filters (max 3)');
    expect(filterRefusal(['REQ', 's', 'kinds'])).toBe('invalid: a filter must be a JSON object');
    expect(filterRefusal(['REQ', 's', { kinds: [1], ids: ['ABC'] }])).toBe('invalid: ids must be 64 lowercase hex characters');
    expect(filterRefusal(['COUNT', 's', { authors: [id, id, id] }])).toBe('invalid: too many authors (max 2)');
    expect(filterRefusal(['REQ', 's', { limit: -1 }])).toBe('invalid: limit must be a non-negative integer');
    expect(filterRefusal(['REQ', 's', { search: 'x' }])).toBe('unsupported: search is not supported');
    const parsed = parse(['REQ', 'kept', { kinds: 'one' }]);
    expect(parsed.kind === 'command' && parsed.command.subId).toBe('kept');
  });
});

describe('archive relay client messages: malformed frames', () => {
  const invalid = (reason: string) => ({ label: 'invalid', kind: 'reply', reply: ['NOTICE', reason] });

  it('refuses binary frames', () => {
    expect(parseClientMessage(Buffer.from('["REQ","s",{}]'), true, bounds)).toEqual(invalid('invalid: binary messages are not supported'));
  });

  it('refuses what is not JSON', () => {
    expect(parseText('["REQ","s",{}')).toEqual(invalid('invalid: the message is not JSON'));
    expect(parseText('')).toEqual(invalid('invalid: the message is not JSON'));
  });

  it('refuses JSON that is not an array starting with its type', () => {
    const notice = invalid('invalid: a message must be a JSON array starting with its type');
    expect(parse({ type: 'REQ' })).toEqual(notice);
    expect(parse('REQ')).toEqual(notice);
    expect(parse([])).toEqual(notice);
    expect(parse([1, 'REQ'])).toEqual(notice);
    expect(parseText('null')).toEqual(notice);
  });

  it('refuses an unknown type, quoting at most 40 of its characters', () => {
    expect(parse(['req', 's', {}])).toEqual(invalid('invalid: unknown message type "req"'));
    expect(parse(['X'.repeat(50)])).toEqual(invalid(`invalid: unknown message type "${'X'.repeat(40)}…"`));
  });
});

describe('archive relay client messages: refused types', () => {
  it('answers EVENT with OK false, naming the event id only when it is one', () => {
    const blocked = (eventId: string) => ({
      label: 'event',
      kind: 'reply',
      reply: ['OK', eventId, false, 'blocked: this is a read-only archive'],
    });
    expect(parse(['EVENT', { id, kind: 1, content: 'hi' }])).toEqual(blocked(id));
    expect(parse(['EVENT', { id: id.toUpperCase() }])).toEqual(blocked(''));
    expect(parse(['EVENT', { id: 'ab' }])).toEqual(blocked(''));
    expect(parse(['EVENT', [id]])).toEqual(blocked(''));
    expect(parse(['EVENT'])).toEqual(blocked(''));
  });

  it('answers NIP-77 negentropy messages with unsupported:', () => {
    for (const type of ['NEG-OPEN', 'NEG-MSG', 'NEG-CLOSE', 'NEG-ERR']) {
      expect(parse([type, 'neg', { kinds: [1] }, '6100'])).toEqual({
        label: 'invalid',
        kind: 'reply',
        reply: ['NOTICE', `unsupported: ${type} (NIP-77 negentropy) is not supported`],
      });
    }
    expect(parse(['NEG-OTHER'])).toEqual({
      label: 'invalid',
      kind: 'reply',
      reply: ['NOTICE', 'invalid: unknown message type "NEG-OTHER"'],
    });
  });

  it('answers AUTH with unsupported:', () => {
    expect(parse(['AUTH', { kind: 22242 }])).toEqual({
      label: 'invalid',
      kind: 'reply',
      reply: ['NOTICE', 'unsupported: AUTH is not needed here'],
    });
  });
});
