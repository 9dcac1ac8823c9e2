/**
 * `GET /v1/events`: search by ids, authors, kinds, tag values (`#x` or `tag=x:value`), time range and
 * the relay an event was seen on, newest first, with a keyset cursor and a hard page cap.
 * `GET /v1/events/{id}`: one event with the relays it was seen on and when.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Config } from '../../config/schema.js';
import { decodeCursor, encodeCursor, eventQuery, findEvents, type ArchiveFilter, type EventPosition } from '../../db/event-query.js';
import { eventProvenance } from '../../db/event-provenance.js';
import { searchEvents } from '../../db/event-search.js';
import { readOnly } from '../api-query.js';
import { cursor, eventId, kind, listOf, pageLimit, publicKey, relayUrl, TAG_KEY, unixSeconds } from '../params.js';
import { errorSchema, nostrEventSchema } from '../schemas.js';
import { BadParameterError } from '../errors.js';
import { zodRoutes, type RouteOptions, type ZodRoutes } from './route-context.js';

const MAX_VALUES = 500;

const SEARCH_DESCRIPTION =
  'NIP-01-style search over the archive, newest first. Combine fields (AND); list values are alternatives (OR). Page with next_cursor.';
const NAMED_PARAMETERS = ['ids', 'authors', 'kinds', 'since', 'until', 'relay', 'tag', 'limit', 'cursor'];
const tagValue = z.string().regex(/^[a-zA-Z]:.{1,1024}$/s, { error: 'expected <letter>:<value>, e.g. t:nostr' });

/** The search's query string: the named fields, and any `#x` tag parameter (checked by searchOfQuery). */
function searchQuerystring(api: Config['api']) {
  return z
    .object({
      ids: listOf(eventId, MAX_VALUES).optional().describe('event ids (64 hex, or note/nevent), repeated or comma-separated'),
      authors: listOf(publicKey, MAX_VALUES).optional().describe('author public keys (64 hex, or npub/nprofile)'),
      kinds: listOf(kind, MAX_VALUES).optional().describe('kinds (0-65535)'),
      since: unixSeconds.optional().describe('created_at at or after (unix seconds)'),
      until: unixSeconds.optional().describe('created_at at or before (unix seconds)'),
      relay: relayUrl.optional().describe('only events seen on this relay (ws:// or wss:// URL)'),
      tag: listOf(tagValue, MAX_VALUES)
        .optional()
        .describe('tag filters `<letter>:<value>` (the first value of a single-letter tag, as NIP-01 #x); `#x=value` works too'),
      limit: pageLimit(api.page_size_default, api.page_size_max).describe(`events per page (1-${api.page_size_max})`),
      cursor: cursor.optional().describe('next_cursor of the previous page'),
    })
    .catchall(z.union([z.string(), z.array(z.string())]));
}

export type SearchQuery = z.infer<ReturnType<typeof searchQuerystring>>;

/** The archive filter and page position a search's query string asks for; a bad parameter is named. */
export function searchOfQuery(query: SearchQuery): { filter: ArchiveFilter; position: EventPosition | undefined } {
  const tags: Record<string, string[]> = {};
  for (const entry of query.tag ?? []) (tags[entry[0] as string] ??= []).push(entry.slice(2));
  for (const [key, value] of Object.entries(query)) {
    if (NAMED_PARAMETERS.includes(key)) continue;
    if (!TAG_KEY.test(key)) throw new BadParameterError(key, 'unknown parameter');
    const values = (Array.isArray(value) ? value : [value]).map(String).filter((item) => item.length > 0);
    if (values.length === 0 || values.length > MAX_VALUES || values.some((item) => item.length > 1024))
      throw new BadParameterError(key, `expected 1 to ${MAX_VALUES} values of at most 1024 characters`);
    (tags[key.slice(1)] ??= []).push(...values);
  }
  if (query.since !== undefined && query.until !== undefined && query.since > query.until)
    throw new BadParameterError('since', 'is after until');
  const position = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  if (query.cursor !== undefined && !position) throw new BadParameterError('cursor', 'expected a cursor from a previous page');
  const filter: ArchiveFilter = {
    ids: query.ids,
    authors: query.authors,
    kinds: query.kinds,
    since: query.since,
    until: query.until,
    relay: query.relay,
    ...(Object.keys(tags).length ? { tags } : {}),
  };
  return { filter, position };
}

export function registerEventRoutes(app: FastifyInstance, options: RouteOptions): void {
  const routes = zodRoutes(app);
  registerEventSearch(routes, options);
  registerEventById(routes, options);
}

function registerEventSearch(routes: ZodRoutes, options: RouteOptions): void {
  routes.get(
    '/v1/events',
    {
      schema: {
        summary: 'Search events',
        description: SEARCH_DESCRIPTION,
        tags: ['events'],
        querystring: searchQuerystring(options.config().api),
        response: {
          200: z.object({ events: z.array(nostrEventSchema), next_cursor: z.string().nullable() }),
          400: errorSchema,
          503: errorSchema,
        },
      },
    },
    async (request) => {
      const query = request.query;
      const { filter, position } = searchOfQuery(query);
      const config = options.config();
      const events = await readOnly(options.db, config.api.statement_timeout_ms, (tx) =>
        searchEvents(tx, [filter], query.limit + 1, position),
      );
      const page = events.slice(0, query.limit);
      const last = page[page.length - 1];
      return {
        events: page,
        next_cursor: events.length > query.limit && last ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null,
      };
    },
  );
}

function registerEventById(routes: ZodRoutes, options: RouteOptions): void {
  routes.get(
    '/v1/events/:id',
    {
      schema: {
        summary: 'One event, with where it was seen',
        tags: ['events'],
        params: z.object({ id: eventId.describe('event id (64 hex, or note/nevent)') }),
        response: {
          200: z.object({ event: nostrEventSchema, seen_on: z.array(z.object({ relay: z.string(), first_seen_at: z.string() })) }),
          400: errorSchema,
          404: errorSchema,
          503: errorSchema,
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const config = options.config();
      const found = await readOnly(options.db, config.api.statement_timeout_ms, async (tx) => {
        const [event] = await findEvents(tx, eventQuery({ ids: [id] }, 1));
        return event
          ? {
              event,
              seen_on: (await eventProvenance(tx, id)).map((sighting) => ({
                relay: sighting.relay,
                first_seen_at: sighting.first_seen_at.toISOString(),
              })),
            }
          : undefined;
      });
      if (!found) return reply.code(404).send({ error: 'not found', message: `no event ${id} in the archive` });
      return found;
    },
  );
}
