/**
 * Bulk event storage: one statement per batch inserts the new events (ON CONFLICT DO NOTHING) and the
 * provenance rows for the relay they came from. Parameters are array literals expanded with unnest,
 * each built here as one string; the fixed-size bytea columns (id, pubkey, sig: 128 bytes per event)
 * travel as one hex string for the whole batch, decoded once by the server and cut by position.
 * Identical on PGlite and pg.
 */
import type { NostrEvent } from '../nostr/event.js';
import type { Queryable } from './database.js';
import { decodeEventRow, needsRawJson, quoteArrayElement, sanitizeTags, sanitizeText, tagValuesLiteral, textArrayLiteral, type EventRow } from './event-codec.js';

export interface InsertBatchResult {
  /** Events stored for the first time. */
  newEvents: number;
  /** (event, relay) pairs recorded for the first time. */
  newRelayLinks: number;
}

// `keys` (id, pubkey and sig of every event: 128 bytes each) is materialized: decoded once per statement, never once per row.
const INSERT_BATCH_SQL = `
WITH keys AS MATERIALIZED (SELECT decode($1, 'hex') AS bytes),
input AS (
  SELECT substring(keys.bytes FROM (t.n::int - 1) * 128 + 1 FOR 32) AS id,
         substring(keys.bytes FROM (t.n::int - 1) * 128 + 33 FOR 32) AS pubkey,
         substring(keys.bytes FROM (t.n::int - 1) * 128 + 65 FOR 64) AS sig,
         t.created_at, t.kind, t.tags_json, t.content, t.tagvalues, t.raw_hex
  FROM keys, unnest($2::bigint[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[])
    WITH ORDINALITY AS t(created_at, kind, tags_json, content, tagvalues, raw_hex, n)
),
new_events AS (
  INSERT INTO event (id, pubkey, created_at, kind, tags, content, sig, tagvalues, raw_json)
  SELECT id, pubkey, created_at, kind, tags_json::jsonb, content, sig, tagvalues::text[], decode(raw_hex, 'hex')
  FROM input
  ON CONFLICT DO NOTHING
  RETURNING 1
),
new_links AS (
  INSERT INTO event_relay (event_id, relay_id, first_seen_at)
  SELECT id, $8::int, $9::timestamptz FROM input WHERE $8::int IS NOT NULL
  ON CONFLICT DO NOTHING
  RETURNING 1
)
SELECT (SELECT count(*) FROM new_events) AS new_events, (SELECT count(*) FROM new_links) AS new_links`;

function checkHex(event: NostrEvent): void {
  // A wrong length would shift every later event's keys: refuse it (hex digits are checked by decode).
  if (event.id.length !== 64 || event.pubkey.length !== 64 || event.sig.length !== 128) throw new Error(`event ${event.id.slice(0, 64)}: id, pubkey or sig of the wrong length`);
}

async function insertChunk(db: Queryable, events: NostrEvent[], relayId: number | null, seenAt: Date): Promise<InsertBatchResult> {
  // A relay may send the same event twice in one batch; one row per id keeps the statement simple.
  const seen = new Set<string>();
  let keys = '';
  const createdAt: number[] = [];
  const kinds: number[] = [];
  let tagsLiteral = '{';
  let contentLiteral = '{';
  let tagValuesLiterals = '{';
  const rawHex: (string | null)[] = [];
  for (const event of events) {
    if (seen.has(event.id)) continue;
    seen.add(event.id);
    checkHex(event);
    const separator = createdAt.length > 0 ? ',' : '';
    keys += event.id + event.pubkey + event.sig;
    createdAt.push(event.created_at);
    kinds.push(event.kind);
    // Text PostgreSQL cannot hold: a searchable copy in the columns, the exact original in raw_json.
    const raw = needsRawJson(event);
    tagsLiteral += separator + quoteArrayElement(JSON.stringify(raw ? sanitizeTags(event.tags) : event.tags));
    contentLiteral += separator + quoteArrayElement(raw ? sanitizeText(event.content) : event.content);
    tagValuesLiterals += separator + quoteArrayElement(tagValuesLiteral(event.tags, !raw));
    rawHex.push(raw ? Buffer.from(JSON.stringify([event.tags, event.content]), 'utf8').toString('hex') : null);
  }
  const { rows } = await db.query<{ new_events: number; new_links: number }>(INSERT_BATCH_SQL, [
    keys,
    `{${createdAt.join(',')}}`,
    `{${kinds.join(',')}}`,
    `${tagsLiteral}}`,
    `${contentLiteral}}`,
    `${tagValuesLiterals}}`,
    textArrayLiteral(rawHex),
    relayId,
    seenAt.toISOString(),
  ]);
  const row = rows[0];
  return { newEvents: Number(row?.new_events ?? 0), newRelayLinks: Number(row?.new_links ?? 0) };
}

/**
 * Stores validated events seen on one relay (`null`: events of our own that no relay holds yet). Splits into statements of at most `batchSize` events;
 * each statement is atomic (events and their provenance together).
 */
export async function insertEventBatch(
  db: Queryable,
  events: NostrEvent[],
  relayId: number | null,
  options: { batchSize?: number; seenAt?: Date } = {},
): Promise<InsertBatchResult> {
  const batchSize = options.batchSize ?? 2_000;
  const seenAt = options.seenAt ?? new Date();
  const total: InsertBatchResult = { newEvents: 0, newRelayLinks: 0 };
  for (let start = 0; start < events.length; start += batchSize) {
    const result = await insertChunk(db, events.slice(start, start + batchSize), relayId, seenAt);
    total.newEvents += result.newEvents;
    total.newRelayLinks += result.newRelayLinks;
  }
  return total;
}

export async function getEventsByIds(db: Queryable, ids: string[]): Promise<NostrEvent[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<EventRow>(
    `SELECT id, pubkey, created_at, kind, tags, content, sig, raw_json FROM event
     WHERE id = ANY(ARRAY(SELECT decode(x, 'hex') FROM unnest($1::text[]) AS x))`,
    [ids],
  );
  return rows.map(decodeEventRow);
}
