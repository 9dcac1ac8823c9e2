import { describe, expect, it } from 'vitest';
import { parseClientFilters } from '../../src/nostr/client-filters.js';

const bounds = { maxFilters: 2, maxValues: 3, maxLimit: 50 };
const hex = (char: string) => char.repeat(64);

describe('client filters', () => {
  it('maps every NIP-01 field to an archive filter and takes the largest limit, capped', () => {
    const parsed = parseClientFilters(
      [
        { ids: [hex('a')], authors: [hex('b')], kinds: [1, 7], since: 10, until: 20, '#e': [hex('c')], '#t': ['nostr'], limit: 5 },
        { kinds: [0], limit: 500 },
      ],
      bounds,
    );
    expect(parsed).toEqual({
      ok: true,
      value: {
        filters: [
          { ids: [hex('a')], authors: [hex('b')], kinds: [1, 7], since: 10, until: 20, tags: { e: [hex('c')], t: ['nostr'] } },
          { kinds: [0] },
        ],
        limit: 50,
      },
    });
    expect(parseClientFilters([{ kinds: [1], limit: 7 }], bounds)).toMatchObject({ ok: true, value: { limit: 7 } });
    expect(parseClientFilters([{ kinds: [1] }], bounds)).toMatchObject({ ok: true, value: { limit: 50 } });
  });

  it('refuses with a NIP-01 prefix that names the field', () => {
    const reasons = [
      [[], 'invalid: at least one filter is required'],
      [[{}, {}, {}], 'invalid: too many filters (max 2)'],
      [['x'], 'invalid: a filter must be a JSON object'],
      [[{ ids: 'x' }], 'invalid: ids must be an array'],
      [[{ authors: ['ABC'] }], 'invalid: authors must be 64 lowercase hex characters'],
      [[{ kinds: [1, 2, 3, 4] }], 'invalid: too many kinds (max 3)'],
      [[{ kinds: [70_000] }], 'invalid: kinds must be integers from 0 to 65535'],
      [[{ since: -1 }], 'invalid: since must be a non-negative integer timestamp'],
      [[{ limit: 1.5 }], 'invalid: limit must be a non-negative integer'],
      [[{ search: 'x' }], 'unsupported: search is not supported'],
      [[{ '#kinds': [7] }], 'invalid: unknown filter field #kinds'],
      [[{ '#t': [1] }], 'invalid: #t values must be strings'],
    ] as const;
    for (const [raw, reason] of reasons) expect(parseClientFilters([...raw], bounds), JSON.stringify(raw)).toEqual({ ok: false, reason });
  });

  it('refuses at the first bad field in the order given, whichever filter holds it', () => {
    expect(parseClientFilters([{ kinds: [1] }, { since: 1, search: 'x', ids: 'y' }], bounds)).toEqual({
      ok: false,
      reason: 'unsupported: search is not supported',
    });
    expect(parseClientFilters([{ limit: -1, kinds: 'x' }], bounds)).toEqual({
      ok: false,
      reason: 'invalid: limit must be a non-negative integer',
    });
    expect(parseClientFilters([{ '#p': [hex('a'), hex('b'), hex('c'), hex('d')] }], bounds)).toEqual({
      ok: false,
      reason: 'invalid: too many #p values (max 3)',
    });
    expect(parseClientFilters([{ '#t': 'nostr' }], bounds)).toEqual({ ok: false, reason: 'invalid: #t must be an array' });
  });

  it('asks the largest limit only when every filter has one (limit 0 included)', () => {
    expect(parseClientFilters([{ limit: 0 }, { limit: 3 }], bounds)).toMatchObject({ ok: true, value: { limit: 3 } });
    expect(parseClientFilters([{ limit: 0 }], bounds)).toMatchObject({ ok: true, value: { limit: 0 } });
    expect(parseClientFilters([{ limit: 3 }, { kinds: [1] }], bounds)).toMatchObject({ ok: true, value: { limit: 50 } });
    expect(parseClientFilters([{ '#t': ['a'], '#T': ['b'] }], bounds)).toEqual({
      ok: true,
      value: { filters: [{ tags: { t: ['a'], T: ['b'] } }], limit: 50 },
    });
  });
});
