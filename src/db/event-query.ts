/**
 * NIP-01 filters as SQL over the archive, shared by the REST search and the archive relay: ids,
 * authors, kinds, since/until, `#x` tag values (any single letter, through the GIN index on
 * `tagvalues`), the relay an event was seen on, newest first with a keyset position (never OFFSET).
 * Values travel as parameters only; the SQL text depends only on which fields are present.
 */
import type { NostrEvent } from '../nostr/event.js';
import type { Queryable } from './database.js';
import { decodeEventJsonRow, decodeEventRow, type EventJsonRow, type EventRow } from './event-codec.js';

export interface ArchiveFilter {
  ids?: string[];
  authors?: string[];
  kinds?: number[];
  since?: number;
  until?: number;
  /** Tag letter → accepted values (the event matches when its first value of that tag is one of them). */
  tags?: Record<string, string[]>;
  /** Only events seen on this relay (normalised URL). */
  relay?: string;
  /** Values of any single-letter tag (first values): the event matches when one of its tags has one of them. */
  anyTag?: string[];
}

const TAG_LETTERS = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'];

/** Where the previous page ended: events strictly older than (createdAt, id) come next. */
export interface EventPosition {
  createdAt: number;
  id: string;
}

export interface EventQuery {
  text: string;
  values: unknown[];
}

const SELECT_COLUMNS = 'e.id, e.pubkey, e.created_at, e.kind, e.tags, e.content, e.sig, e.raw_json';

/**
 * Each event as NIP-01 JSON text, built by the database (what the archive relay sends: no bytea,
 * jsonb or object decoding and no JSON.stringify per event in Node). `tags::text` is jsonb's
 * rendering (a space after `:` and `,`) and `to_json(content)` escapes the content: valid JSON that
 * parses to exactly the signed values, not byte-identical to the signed serialization (clients hash
 * their own serialization). An event with `raw_json` (its tags or content hold what text cannot) gets
 * here only id, pubkey, created_at, kind and sig; decodeEventJsonRow adds its exact tags and content.
 */
const EVENT_JSON_HEAD = `'{"id":"' || encode(e.id, 'hex') || '","pubkey":"' || encode(e.pubkey, 'hex')
    || '","created_at":' || e.created_at || ',"kind":' || e.kind`;
const EVENT_JSON = `CASE WHEN e.raw_json IS NULL
  THEN ${EVENT_JSON_HEAD}
    || ',"tags":' || e.tags::text || ',"content":' || to_json(e.content)::text || ',"sig":"' || encode(e.sig, 'hex') || '"}'
  ELSE ${EVENT_JSON_HEAD} || ',"sig":"' || encode(e.sig, 'hex') || '"}'
  END AS json, e.raw_json`;

/** Builds the WHERE clause of one filter; `values` receives the parameters. */
function whereOf(filter: ArchiveFilter, values: unknown[], position?: EventPosition): string {
  const conditions: string[] = [];
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  // A single value is compared with `=`: the planner then reads an index in order and stops at the
  // page size, where `= ANY(array)` makes it fetch and sort every match (20,000 events of a prolific
  // author for a page of 100; measured in docs/api.md).
  if (filter.ids)
    conditions.push(
      filter.ids.length === 1
        ? `e.id = decode(${param(filter.ids[0])}, 'hex')`
        : `e.id = ANY(ARRAY(SELECT decode(x, 'hex') FROM unnest(${param(filter.ids)}::text[]) AS x))`,
    );
  if (filter.authors)
    conditions.push(
      filter.authors.length === 1
        ? `e.pubkey = decode(${param(filter.authors[0])}, 'hex')`
        : `e.pubkey = ANY(ARRAY(SELECT decode(x, 'hex') FROM unnest(${param(filter.authors)}::text[]) AS x))`,
    );
  if (filter.kinds)
    conditions.push(filter.kinds.length === 1 ? `e.kind = ${param(filter.kinds[0])}::int` : `e.kind = ANY(${param(filter.kinds)}::int[])`);
  if (filter.since !== undefined) conditions.push(`e.created_at >= ${param(filter.since)}::bigint`);
  if (filter.until !== undefined) conditions.push(`e.created_at <= ${param(filter.until)}::bigint`);
  for (const [letter, accepted] of Object.entries(filter.tags ?? {})) {
    conditions.push(`e.tagvalues && ${param(accepted.map((value) => `${letter}:${value.replaceAll('\u0000', '\uFFFD')}`))}::text[]`);
  }
  if (filter.anyTag) {
    const anyLetter = filter.anyTag.flatMap((value) => TAG_LETTERS.map((letter) => `${letter}:${value.replaceAll('\u0000', '\uFFFD')}`));
    conditions.push(`e.tagvalues && ${param(anyLetter)}::text[]`);
  }
  if (filter.relay !== undefined) {
    conditions.push(
      `EXISTS (SELECT 1 FROM event_relay er JOIN relay r ON r.id = er.relay_id
               WHERE er.event_id = e.id AND r.url = ${param(filter.relay)})`,
    );
  }
  if (position) conditions.push(`(e.created_at, e.id) < (${param(position.createdAt)}::bigint, decode(${param(position.id)}, 'hex'))`);
  return conditions.length ? conditions.join(' AND ') : 'true';
}

/** One filter, newest first, at most `limit` events after `position`. */
export function eventQuery(filter: ArchiveFilter, limit: number, position?: EventPosition, columns = SELECT_COLUMNS): EventQuery {
  const values: unknown[] = [];
  const where = whereOf(filter, values, position);
  values.push(limit);
  return { text: `SELECT ${columns} FROM event e WHERE ${where} ORDER BY e.created_at DESC, e.id DESC LIMIT $${values.length}`, values };
}

/** Several filters (NIP-01: an event matching any), newest first, each event once, at most `limit` after `position`. */
export function eventsQuery(filters: ArchiveFilter[], limit: number, position?: EventPosition, columns = SELECT_COLUMNS): EventQuery {
  if (filters.length === 1) return eventQuery(filters[0] as ArchiveFilter, limit, position, columns);
  const values: unknown[] = [];
  let where = filters.map((filter) => `(${whereOf(filter, values)})`).join(' OR ');
  if (position) where = `(${where}) AND ${whereOf({}, values, position)}`;
  values.push(limit);
  return { text: `SELECT ${columns} FROM event e WHERE ${where} ORDER BY e.created_at DESC, e.id DESC LIMIT $${values.length}`, values };
}

/** As eventsQuery, each event as its NIP-01 JSON text (read with findEventsJson). */
export function eventsJsonQuery(filters: ArchiveFilter[], limit: number, position?: EventPosition): EventQuery {
  return eventsQuery(filters, limit, position, EVENT_JSON);
}

/** NIP-45: how many events match any of the filters. */
export function countQuery(filters: ArchiveFilter[]): EventQuery {
  const values: unknown[] = [];
  const where = filters.map((filter) => `(${whereOf(filter, values)})`).join(' OR ');
  return { text: `SELECT count(*) AS count FROM event e WHERE ${where}`, values };
}

/**
 * What a grouped count groups by: an event field, the `e` tag marked `root` or `reply` (NIP-10), or
 * the first value of the first tag with that name.
 */
export type CountGroup = { field: 'pubkey' | 'kind' | 'content' } | { marker: 'root' | 'reply' } | { tag: string };

/** Group keys are cut to this many characters (a group by content would otherwise echo whole notes). */
export const GROUP_KEY_MAX_CHARS = 200;

function groupExpression(group: CountGroup, values: unknown[]): string {
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  const firstTagValue = (condition: string) =>
    `(SELECT t.tag->>1 FROM jsonb_array_elements(e.tags) WITH ORDINALITY AS t(tag, position)
      WHERE ${condition} ORDER BY t.position LIMIT 1)`;
  if ('field' in group) {
    if (group.field === 'pubkey') return `encode(e.pubkey, 'hex')`;
    if (group.field === 'kind') return 'e.kind::text';
    return `left(e.content, ${GROUP_KEY_MAX_CHARS})`;
  }
  if ('marker' in group) return `left(${firstTagValue(`t.tag->>0 = 'e' AND t.tag->>3 = ${param(group.marker)}`)}, ${GROUP_KEY_MAX_CHARS})`;
  return `left(${firstTagValue(`t.tag->>0 = ${param(group.tag)}`)}, ${GROUP_KEY_MAX_CHARS})`;
}

/**
 * Events matching any of the filters counted per combination of `groups` (keys `g0`, `g1`, …; NULL
 * where an event has no such value), largest first, at most `limit` rows; `groups_total` on every row is
 * how many combinations there are in all.
 */
export function groupedCountQuery(filters: ArchiveFilter[], groups: CountGroup[], limit: number): EventQuery {
  const values: unknown[] = [];
  const where = filters.map((filter) => `(${whereOf(filter, values)})`).join(' OR ');
  const keys = groups.map((group, index) => `${groupExpression(group, values)} AS g${index}`).join(', ');
  const names = groups.map((_, index) => `g${index}`).join(', ');
  values.push(limit);
  return {
    text: `SELECT ${names}, count(*) AS count, count(*) OVER () AS groups_total FROM (SELECT ${keys} FROM event e WHERE ${where}) AS keyed
           GROUP BY ${names} ORDER BY count(*) DESC, ${names} LIMIT $${values.length}`,
    values,
  };
}

export async function findEvents(db: Queryable, query: EventQuery): Promise<NostrEvent[]> {
  const { rows } = await db.query<EventRow>(query.text, query.values);
  return rows.map(decodeEventRow);
}

/** The events of an eventsJsonQuery as NIP-01 JSON texts, in its order. */
export async function findEventsJson(db: Queryable, query: EventQuery): Promise<string[]> {
  const { rows } = await db.query<EventJsonRow>(query.text, query.values);
  const texts = new Array<string>(rows.length);
  for (let index = 0; index < rows.length; index += 1) texts[index] = decodeEventJsonRow(rows[index] as EventJsonRow);
  return texts;
}

/** An opaque page cursor: base64url of `created_at:id`. */
export function encodeCursor(position: EventPosition): string {
  return Buffer.from(`${position.createdAt}:${position.id}`, 'utf8').toString('base64url');
}

/** The position of a cursor, or undefined when it is not one of ours. */
export function decodeCursor(cursor: string): EventPosition | undefined {
  const match = /^(\d{1,16}):([0-9a-f]{64})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) return undefined;
  const createdAt = Number(match[1]);
  return Number.isSafeInteger(createdAt) ? { createdAt, id: match[2] as string } : undefined;
}

/** A point in the archive's insertion order: `archived_at` (as PostgreSQL prints it, exact; and in microseconds, to compare) and id. */
export interface ArchivePosition {
  archivedAt: string;
  micros: number;
  id: string;
}

const LOWEST_ID = '0'.repeat(64);

/**
 * The archive's clock for the live feed: now(), or on a streaming-replication standby (a read replica,
 * `api.database_url`) the primary's commit time of the last transaction replayed, so that events the
 * replica has not replayed yet are not passed over (its own clock runs ahead of what it holds by the
 * replication lag). Before the standby has replayed anything since it started: its own clock.
 */
const ARCHIVE_CLOCK = `(CASE WHEN pg_is_in_recovery() THEN least(now(), coalesce(pg_last_xact_replay_timestamp(), now())) ELSE now() END)`;

/** A position `lagMs` before the archive's clock now: where a live feed starting now begins. */
export async function archiveNow(db: Queryable, lagMs: number): Promise<ArchivePosition> {
  const { rows } = await db.query<{ at: string; micros: string }>(
    `SELECT t::text AS at, (extract(epoch FROM t) * 1000000)::bigint AS micros
     FROM (SELECT ${ARCHIVE_CLOCK} - make_interval(secs => $1::double precision / 1000) AS t) AS clock`,
    [lagMs],
  );
  return { archivedAt: rows[0]?.at as string, micros: Number(rows[0]?.micros), id: LOWEST_ID };
}

export function comparePositions(a: ArchivePosition, b: ArchivePosition): number {
  return a.micros !== b.micros ? a.micros - b.micros : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Events archived after `after` (and not after `upTo`, when given) and at least `lagMs` ago, oldest
 * first, at most `limit`, each with its position (read through event_archived_idx). The lag leaves
 * time for transactions that started earlier to commit: `archived_at` is their start time. "Ago" is
 * by the archive's clock (ARCHIVE_CLOCK: on a replica, the primary's time of what it has replayed).
 */
export async function eventsArchivedAfter(
  db: Queryable,
  after: ArchivePosition,
  options: { lagMs: number; limit: number; upTo?: ArchivePosition },
): Promise<{ event: NostrEvent; position: ArchivePosition }[]> {
  const { rows } = await db.query<EventRow & { archived: string; micros: string }>(
    `SELECT ${SELECT_COLUMNS}, e.archived_at::text AS archived, (extract(epoch FROM e.archived_at) * 1000000)::bigint AS micros FROM event e
     WHERE (e.archived_at, e.id) > ($1::timestamptz, decode($2, 'hex'))
       AND ($5::timestamptz IS NULL OR (e.archived_at, e.id) <= ($5::timestamptz, decode($6, 'hex')))
       AND e.archived_at <= ${ARCHIVE_CLOCK} - make_interval(secs => $3::double precision / 1000)
     ORDER BY e.archived_at, e.id
     LIMIT $4`,
    [after.archivedAt, after.id, options.lagMs, options.limit, options.upTo?.archivedAt ?? null, options.upTo?.id ?? LOWEST_ID],
  );
  return rows.map((row) => {
    const event = decodeEventRow(row);
    return { event, position: { archivedAt: row.archived, micros: Number(row.micros), id: event.id } };
  });
}

/** Whether an event matches one archive filter, exactly as the SQL of `eventQuery` decides (tags: first values). */
export function matchesArchiveFilter(event: NostrEvent, filter: ArchiveFilter): boolean {
  if (filter.ids && !filter.ids.includes(event.id)) return false;
  if (filter.authors && !filter.authors.includes(event.pubkey)) return false;
  if (filter.kinds && !filter.kinds.includes(event.kind)) return false;
  if (filter.since !== undefined && event.created_at < filter.since) return false;
  if (filter.until !== undefined && event.created_at > filter.until) return false;
  for (const [letter, accepted] of Object.entries(filter.tags ?? {})) {
    if (!event.tags.some((tag) => tag[0] === letter && tag[1] !== undefined && accepted.includes(tag[1]))) return false;
  }
  if (
    filter.anyTag &&
    !event.tags.some((tag) => tag[0] !== undefined && /^[a-zA-Z]$/.test(tag[0]) && tag[1] !== undefined && filter.anyTag?.includes(tag[1]))
  )
    return false;
  // `relay` (seen on a relay) is a REST filter; the archive relay never sets it.
  return filter.relay === undefined;
}

/** Whether `author` has an archived event of one of `kinds` whose `e` tag points at `eventId` (e.g. our answer to a job). */
export async function hasReplyTo(db: Queryable, options: { author: string; kinds: number[]; eventId: string }): Promise<boolean> {
  const { rows } = await db.query(
    `SELECT 1 FROM event e
     WHERE e.pubkey = decode($1, 'hex') AND e.kind = ANY($2::int[]) AND e.tagvalues && ARRAY['e:' || $3::text] LIMIT 1`,
    [options.author, options.kinds, options.eventId],
  );
  return rows.length > 0;
}
