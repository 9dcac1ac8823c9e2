/**
 * Bulk event storage: one statement per batch inserts the new events (ON CONFLICT DO NOTHING) and the
 * provenance rows for the relay they came from, the batch loaded by COPY (event-copy.ts). Identical
 * on PGlite and pg.
 */
import type { NostrEvent } from '../nostr/event.js';
import type { Database, Queryable, Transaction } from './database.js';
import { decodeEventRow, type EventRow } from './event-codec.js';
import { copyEventBatch, type InsertBatchResult } from './event-copy.js';

export type { InsertBatchResult } from './event-copy.js';

/**
 * Stores validated events seen on one relay (`null`: events of our own that no relay holds yet).
 * Splits into statements of at most `batchSize` events; each statement is atomic (events and their
 * provenance together). Given the database, each batch is its own transaction; given a transaction,
 * the batches are part of it.
 */
export async function insertEventBatch(
  db: Database | Transaction,
  events: NostrEvent[],
  relayId: number | null,
  options: { batchSize?: number; seenAt?: Date } = {},
): Promise<InsertBatchResult> {
  const batchSize = options.batchSize ?? 2_000;
  const seenAt = options.seenAt ?? new Date();
  const total: InsertBatchResult = { newEvents: 0, newRelayLinks: 0 };
  for (let start = 0; start < events.length; start += batchSize) {
    const batch = events.slice(start, start + batchSize);
    const result =
      'transaction' in db
        ? await db.transaction((tx) => copyEventBatch(tx, batch, relayId, seenAt))
        : await copyEventBatch(db, batch, relayId, seenAt);
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
