/**
 * The bulk insert's one statement per batch, fed by COPY: the batch travels in COPY's binary format
 * into a temporary staging table, then one INSERT … SELECT moves it into `event` (ON CONFLICT DO
 * NOTHING) and writes its `event_relay` rows. An eighth faster than array-literal parameters on
 * PostgreSQL, a fifth on PGlite (decision 16, docs/benchmarks.md).
 * Runs inside the caller's transaction: the staging table's rows never outlive it.
 */
import type { NostrEvent } from '../nostr/event.js';
import type { Transaction } from './database.js';
import { needsRawJson, sanitizeTags, sanitizeText, tagValues } from './event-codec.js';

export interface InsertBatchResult {
  /** Events stored for the first time. */
  newEvents: number;
  /** (event, relay) pairs recorded for the first time. */
  newRelayLinks: number;
}

// Per session, created once and emptied at every commit (a temporary table is never vacuumed), and
// before each batch (a transaction may store several).
const STAGE_SQL = `CREATE TEMP TABLE IF NOT EXISTS bigbrotr_event_stage (
  id bytea, pubkey bytea, sig bytea, created_at bigint, kind int, tags jsonb, content text, tagvalues text[], raw_json bytea
) ON COMMIT DELETE ROWS;
TRUNCATE bigbrotr_event_stage`;
const STAGE_COLUMNS = 'bigbrotr_event_stage (id, pubkey, sig, created_at, kind, tags, content, tagvalues, raw_json)';

// The triggers of migrations 0012 (relay_id exists) and 0014 (counters) fire once for each INSERT.
const INSERT_STAGED_SQL = `
WITH new_events AS (
  INSERT INTO event (id, pubkey, created_at, kind, tags, content, sig, tagvalues, raw_json)
  SELECT id, pubkey, created_at, kind, tags, content, sig, tagvalues, raw_json FROM bigbrotr_event_stage
  ON CONFLICT DO NOTHING
  RETURNING 1
),
new_links AS (
  INSERT INTO event_relay (event_id, relay_id, first_seen_at)
  SELECT id, $1::int, $2::timestamptz FROM bigbrotr_event_stage WHERE $1::int IS NOT NULL
  ON CONFLICT DO NOTHING
  RETURNING 1
)
SELECT (SELECT count(*) FROM new_events) AS new_events, (SELECT count(*) FROM new_links) AS new_links`;

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const TEXT_OID = 25;
const JSONB_VERSION = 1;

/** A growing buffer in COPY's binary format (network byte order). */
class CopyWriter {
  buffer = Buffer.allocUnsafe(1 << 16);
  length = 0;

  private room(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(bigger, 0, 0, this.length);
    this.buffer = bigger;
  }

  int16(value: number): void {
    this.room(2);
    this.length = this.buffer.writeInt16BE(value, this.length);
  }

  int32(value: number): void {
    this.room(4);
    this.length = this.buffer.writeInt32BE(value, this.length);
  }

  raw(bytes: Buffer): void {
    this.room(bytes.length);
    this.length += bytes.copy(this.buffer, this.length);
  }

  /** A field of `bytes` bytes given in hex; false (nothing usable written) when it is not that. */
  hex(hex: string, bytes: number): boolean {
    this.int32(bytes);
    this.room(bytes);
    const written = hex.length === bytes * 2 ? this.buffer.write(hex, this.length, 'hex') : 0;
    this.length += written;
    return written === bytes;
  }

  /** A text field, after one `prefix` byte when given (jsonb's version). */
  text(text: string, prefix?: number): void {
    const bytes = Buffer.byteLength(text, 'utf8') + (prefix === undefined ? 0 : 1);
    this.int32(bytes);
    this.room(bytes);
    if (prefix !== undefined) this.buffer[this.length++] = prefix;
    this.length += this.buffer.write(text, this.length, 'utf8');
  }

  int8(value: number): void {
    this.int32(8);
    this.room(8);
    this.length = this.buffer.writeBigInt64BE(BigInt(value), this.length);
  }

  /** A one-dimensional text[] (no NULL elements). */
  textArray(values: string[]): void {
    let bytes = values.length > 0 ? 20 : 12;
    for (const value of values) bytes += 4 + Buffer.byteLength(value, 'utf8');
    this.int32(bytes);
    this.int32(values.length > 0 ? 1 : 0);
    this.int32(0);
    this.int32(TEXT_OID);
    if (values.length > 0) {
      this.int32(values.length);
      this.int32(1);
    }
    for (const value of values) this.text(value);
  }
}

/**
 * The staging table's rows in COPY's binary format, one per id (a relay may send an event twice in
 * one batch). Text PostgreSQL cannot hold: a searchable copy in the columns, the exact original in raw_json.
 */
export function encodeEvents(events: NostrEvent[]): Buffer {
  const seen = new Set<string>();
  const out = new CopyWriter();
  out.raw(SIGNATURE);
  out.int32(0); // flags
  out.int32(0); // header extension
  for (const event of events) {
    if (seen.has(event.id)) continue;
    seen.add(event.id);
    out.int16(9);
    // Fields have fixed lengths here: anything but exact hex would garble the rest of the stream.
    if (!(out.hex(event.id, 32) && out.hex(event.pubkey, 32) && out.hex(event.sig, 64))) {
      throw new Error(`event ${event.id.slice(0, 64)}: id, pubkey or sig is not hex of the right length`);
    }
    const raw = needsRawJson(event);
    out.int8(event.created_at);
    out.int32(4);
    out.int32(event.kind);
    out.text(JSON.stringify(raw ? sanitizeTags(event.tags) : event.tags), JSONB_VERSION);
    out.text(raw ? sanitizeText(event.content) : event.content);
    out.textArray(tagValues(event.tags));
    if (raw) out.text(JSON.stringify([event.tags, event.content]));
    else out.int32(-1);
  }
  out.int16(-1);
  return out.buffer.subarray(0, out.length);
}

/** Stores one batch of events seen on `relayId` (null: no relay) inside the transaction `tx`. */
export async function copyEventBatch(
  tx: Transaction,
  events: NostrEvent[],
  relayId: number | null,
  seenAt: Date,
): Promise<InsertBatchResult> {
  const rows = encodeEvents(events);
  await tx.exec(STAGE_SQL);
  await tx.copyFrom(STAGE_COLUMNS, rows);
  const result = await tx.query<{ new_events: number; new_links: number }>(INSERT_STAGED_SQL, [relayId, seenAt.toISOString()]);
  const row = result.rows[0];
  return { newEvents: Number(row?.new_events ?? 0), newRelayLinks: Number(row?.new_links ?? 0) };
}
