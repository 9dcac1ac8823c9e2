/** How `GET /v1/events` reads its query string into an archive filter and a page position. */
import { describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/db/event-query.js';
import { BadParameterError } from '../../src/api/errors.js';
import { searchOfQuery, type SearchQuery } from '../../src/api/routes/events.js';

const query = (fields: Record<string, unknown>) => ({ limit: 100, ...fields }) as SearchQuery;
const ID = 'a'.repeat(64);

function badParameter(fields: Record<string, unknown>): BadParameterError {
  try {
    searchOfQuery(query(fields));
  } catch (error) {
    if (error instanceof BadParameterError) return error;
    throw error;
  }
  throw new Error('expected a BadParameterError');
}

describe('searchOfQuery', () => {
  it('merges tag= entries and #x parameters into one tag filter per letter', () => {
    const { filter, position } = searchOfQuery(query({ kinds: [1], tag: ['t:nostr', 'p:abc'], '#t': ['bitcoin', ''], '#e': ID }));
    expect(filter).toEqual({ kinds: [1], tags: { t: ['nostr', 'bitcoin'], p: ['abc'], e: [ID] } });
    expect(position).toBeUndefined();
  });

  it('leaves tags out when none is asked for, and decodes a cursor', () => {
    const cursor = encodeCursor({ createdAt: 1_700_000_000, id: ID });
    const { filter, position } = searchOfQuery(query({ authors: [ID], since: 10, until: 20, cursor }));
    expect(filter).toEqual({ authors: [ID], since: 10, until: 20 });
    expect(position).toEqual({ createdAt: 1_700_000_000, id: ID });
  });

  it('names the parameter that is wrong', () => {
    expect(badParameter({ color: 'red' }).message).toContain('color');
    expect(badParameter({ '#t': ['', ''] }).message).toContain('#t');
    expect(badParameter({ '#t': Array.from({ length: 501 }, (_, index) => `v${index}`) }).message).toContain('#t');
    expect(badParameter({ since: 30, until: 20 }).message).toContain('since');
    expect(badParameter({ cursor: 'not-a-cursor' }).message).toContain('cursor');
  });
});
