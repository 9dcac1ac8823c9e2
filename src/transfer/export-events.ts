/**
 * `bigbrotr export`: archived events as NIP-01 JSON lines, one event per line, newest first, read in
 * keyset pages (constant memory whatever the archive's size) and written with backpressure. Each line
 * is the event as signed: the stored original is used where PostgreSQL could not hold a character
 * (U+0000, lone surrogates), and JSON escapes them, so the id recomputes from every line.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Database } from '../db/database.js';
import { eventQuery, findEvents, type ArchiveFilter, type EventPosition } from '../db/event-query.js';
import { sightingsOf } from '../db/event-provenance.js';
import type { NostrEvent } from '../nostr/event.js';

export interface ExportOptions {
  filter: ArchiveFilter;
  /** Add `seen_on: [{relay, first_seen_at}]` to each line (not part of NIP-01; other tools ignore or refuse it). */
  provenance?: boolean;
  /** Events read per query. */
  pageSize?: number;
  /** Called after each page with the running count. */
  onProgress?: (exported: number) => void;
}

export interface ExportSummary {
  events: number;
  bytes: number;
}

export async function exportEvents(db: Database, out: Writable, options: ExportOptions): Promise<ExportSummary> {
  const pageSize = options.pageSize ?? 5_000;
  const summary: ExportSummary = { events: 0, bytes: 0 };
  let position: EventPosition | undefined;
  for (;;) {
    const page: NostrEvent[] = await findEvents(db, eventQuery(options.filter, pageSize, position));
    if (page.length === 0) break;
    const sightings = options.provenance
      ? await sightingsOf(
          db,
          page.map((event) => event.id),
        )
      : undefined;
    const lines = page.map((event) => {
      if (!sightings) return JSON.stringify(event);
      const seenOn = (sightings.get(event.id) ?? []).map((sighting) => ({
        relay: sighting.relay,
        first_seen_at: Math.floor(sighting.first_seen_at.getTime() / 1000),
      }));
      return JSON.stringify({ ...event, seen_on: seenOn });
    });
    const text = `${lines.join('\n')}\n`;
    summary.events += page.length;
    summary.bytes += Buffer.byteLength(text, 'utf8');
    if (!out.write(text)) await once(out, 'drain');
    options.onProgress?.(summary.events);
    const last = page[page.length - 1] as NostrEvent;
    position = { createdAt: last.created_at, id: last.id };
    if (page.length < pageSize) break;
  }
  return summary;
}
