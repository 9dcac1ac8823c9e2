/**
 * `bigbrotr import`: events from JSON lines (our export, strfry export, nak, relay dumps: one event
 * per line, or an `["EVENT", …, event]` message per line), each checked for shape, id and signature
 * like events from a relay, stored once (copies already archived are skipped), with the relay given
 * as provenance. Reads in bounded batches: memory does not grow with the file. Every rejected line
 * is counted by reason; the first few are reported with their line numbers.
 */
import type { Readable } from 'node:stream';
import type { Database } from '../db/database.js';
import { insertEventBatch } from '../db/events.js';
import { validateEventShape, type EventLimits, type ShapeRejection } from '../nostr/event-shape.js';
import type { NostrEvent } from '../nostr/event.js';
import type { VerifyPool } from '../verify/pool.js';
import { boundedLines } from './lines.js';

export type ImportRejection = 'not-json' | 'too-long' | 'not-an-event' | ShapeRejection | 'id-mismatch' | 'bad-signature';

export interface ImportSummary {
  lines: number;
  /** Blank lines, skipped. */
  blank: number;
  /** Valid events stored for the first time. */
  imported: number;
  /** Valid events not stored anew: the archive held them, or an earlier line did (with `--relay` they still gain that provenance). */
  alreadyArchived: number;
  /** New (event, relay) pairs, with `--relay`. */
  newRelayLinks: number;
  rejected: Partial<Record<ImportRejection, number>>;
  /** The first rejected lines, for the operator to look at. */
  examples: { line: number; reason: ImportRejection }[];
}

export interface ImportOptions {
  /** Provenance: the relay these events came from (its id in the archive), or null for none. */
  relayId: number | null;
  limits: EventLimits;
  /** Longest line read, in bytes; longer ones are rejected as too long. */
  maxLineBytes: number;
  batchSize?: number;
  insertBatchSize?: number;
  onProgress?: (summary: ImportSummary) => void;
}

const MAX_EXAMPLES = 10;

/** The event object of a line: the line itself, or the last element of an `["EVENT", …]` message. */
function eventOf(value: unknown): unknown {
  if (Array.isArray(value) && value[0] === 'EVENT' && value.length >= 2) return value[value.length - 1];
  return value;
}

export async function importEvents(db: Database, pool: VerifyPool, input: Readable, options: ImportOptions): Promise<ImportSummary> {
  const summary: ImportSummary = { lines: 0, blank: 0, imported: 0, alreadyArchived: 0, newRelayLinks: 0, rejected: {}, examples: [] };
  const batchSize = options.batchSize ?? 2_000;
  const reject = (line: number, reason: ImportRejection) => {
    summary.rejected[reason] = (summary.rejected[reason] ?? 0) + 1;
    if (summary.examples.length < MAX_EXAMPLES) summary.examples.push({ line, reason });
  };
  let batch: { event: NostrEvent; line: number }[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const taken = batch;
    batch = [];
    const verdicts = await pool.verify(taken.map((entry) => entry.event));
    const valid: NostrEvent[] = [];
    verdicts.forEach((verdict, index) => {
      const entry = taken[index] as { event: NostrEvent; line: number };
      if (verdict.ok) valid.push(entry.event);
      else reject(entry.line, verdict.reason === 'bad-id' ? 'id-mismatch' : 'bad-signature');
    });
    const stored = await insertEventBatch(
      db,
      valid,
      options.relayId,
      options.insertBatchSize === undefined ? {} : { batchSize: options.insertBatchSize },
    );
    summary.imported += stored.newEvents;
    summary.alreadyArchived += valid.length - stored.newEvents;
    summary.newRelayLinks += stored.newRelayLinks;
    options.onProgress?.(summary);
  };
  for await (const line of boundedLines(input, options.maxLineBytes)) {
    summary.lines += 1;
    if ('tooLong' in line) {
      reject(line.number, 'too-long');
      continue;
    }
    if (line.text.trim() === '') {
      summary.blank += 1;
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(line.text);
    } catch {
      reject(line.number, 'not-json');
      continue;
    }
    const shape = validateEventShape(eventOf(parsed), options.limits);
    if (!shape.ok) {
      reject(line.number, shape.reason === 'not-object' ? 'not-an-event' : shape.reason);
      continue;
    }
    batch.push({ event: shape.event, line: line.number });
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  return summary;
}
