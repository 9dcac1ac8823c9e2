/**
 * Bulk event storage: one statement per batch inserts the new events (ON CONFLICT DO NOTHING) and the
 * provenance rows for the relay they came from. Parameters are parallel arrays expanded with unnest;
 * bytea columns travel as hex text and are decoded by the server (identical on PGlite and pg).
 */
import type { NostrEvent } from '../nostr/event.js';
import type { Queryable } from './database.js';
import { decodeEventRow, encodeEvent, type EventRow } from './event-codec.js';

export interface InsertBatchResult {
  /** Events stored for the first time. */
  newEvents: number;
  /** (event, relay) pairs recorded for the first time. */
  newRelayLinks: number;
}

const INSERT_BATCH_SQL = `
WITH input AS (
  SELECT *
  FROM unnest($1::text[], $2::text[], $3::bigint[], $4::int[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
    AS t(id_hex, pubkey_hex, created_at, kind, tags_json, content, sig_hex, tagvalues_json, raw_hex)
),
new_events AS (
  INSERT INTO event (id, pubkey, created_at, kind, tags, content, sig, tagvalues, raw_json)
  SELECT decode(id_hex, 'hex'), decode(pubkey_hex, 'hex'), created_at, kind, tags_json::jsonb, content,
         decode(sig_hex, 'hex'),
         ARRAY(SELECT jsonb_array_elements_text(tagvalues_json::jsonb)),
         decode(raw_hex, 'hex')
  FROM input
  ON CONFLICT DO NOTHING
  RETURNING 1
),
new_links AS (
  INSERT INTO event_relay (event_id, relay_id, first_seen_at)
  SELECT decode(id_hex, 'hex'), $10::int, $11::timestamptz FROM input WHERE $10::int IS NOT NULL
  ON CONFLICT DO NOTHING
  RETURNING 1
)
SELECT (SELECT count(*) FROM new_events) AS new_events, (SELECT count(*) FROM new_links) AS new_links`;

async function insertChunk(db: Queryable, events: NostrEvent[], relayId: number | null, seenAt: Date): Promise<InsertBatchResult> {
  // A relay may send the same event twice in one batch; one row per id keeps the statement simple.
  const encoded = [...new Map(events.map((event) => [event.id, event])).values()].map(encodeEvent);
  const { rows } = await db.query<{ new_events: number; new_links: number }>(INSERT_BATCH_SQL, [
    encoded.map((row) => row.idHex),
    encoded.map((row) => row.pubkeyHex),
    encoded.map((row) => row.createdAt),
    encoded.map((row) => row.kind),
    encoded.map((row) => row.tagsJson),
    encoded.map((row) => row.content),
    encoded.map((row) => row.sigHex),
    encoded.map((row) => JSON.stringify(row.tagValues)),
    encoded.map((row) => row.rawJsonHex),
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
