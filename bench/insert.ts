/**
 * Bulk insert throughput and storage size: `npm run bench -- insert` (or `npx tsx bench/insert.ts
 * [pglite|postgres|both]`). 100k synthetic events in batches of `database.insert_batch_size`, 30% of the
 * stream being duplicates of earlier events arriving from a second relay (as when relays overlap).
 * Reports events/s and bytes per stored event (tables + indexes) for each adapter.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { databaseSchema } from '../src/config/schema.js';
import type { Database } from '../src/db/database.js';
import { insertEventBatch } from '../src/db/events.js';
import { migrate } from '../src/db/migrate.js';
import { openDatabase } from '../src/db/open.js';
import { getOrCreateRelayIds } from '../src/db/relays.js';
import type { NostrEvent } from '../src/nostr/event.js';
import type { BenchResult } from './index.js';
import { withScratchPostgres } from './scratch-postgres.js';

const TOTAL = Number(process.env.BENCH_INSERT_EVENTS ?? 100_000);
const DUPLICATE_SHARE = 0.3;

function syntheticEvent(index: number, authors: string[]): NostrEvent {
  const pubkey = authors[index % authors.length] as string;
  const created_at = 1_700_000_000 + Math.floor(index / 3);
  const kind = index % 10 === 0 ? 7 : 1;
  const tags = [
    ['e', createHash('sha256').update(`ref${index}`).digest('hex'), 'wss://relay.example.com/', 'reply'],
    ['p', authors[(index * 7) % authors.length] as string],
    ...(index % 4 === 0 ? [['t', `topic${index % 50}`]] : []),
  ];
  const content = `note ${index}: ${'the quick brown fox jumps over the lazy dog '.repeat(4)}`.slice(0, 200);
  const id = createHash('sha256').update(JSON.stringify([0, pubkey, created_at, kind, tags, content])).digest('hex');
  return { id, pubkey, created_at, kind, tags, content, sig: randomBytes(64).toString('hex') };
}

/** The arrival stream: 70% new events from relay A, 30% repeats of earlier ones from relay B. */
function arrivalStream(): { event: NostrEvent; relay: 'a' | 'b' }[] {
  const authors = Array.from({ length: 2_000 }, () => randomBytes(32).toString('hex'));
  const unique = Math.round(TOTAL * (1 - DUPLICATE_SHARE));
  const fresh = Array.from({ length: unique }, (_, index) => syntheticEvent(index, authors));
  const stream: { event: NostrEvent; relay: 'a' | 'b' }[] = [];
  let next = 0;
  for (let index = 0; index < TOTAL; index += 1) {
    const repeat = next > 0 && (index % 10 < 3 || next >= unique);
    if (repeat) stream.push({ event: fresh[Math.floor(Math.random() * next)] as NostrEvent, relay: 'b' });
    else stream.push({ event: fresh[next++] as NostrEvent, relay: 'a' });
  }
  return stream;
}

async function bytesPerEvent(db: Database): Promise<{ bytes: number; uniqueEvents: number; pairs: number }> {
  await db.exec('VACUUM ANALYZE');
  const { rows } = await db.query<{ bytes: number; events: number; pairs: number }>(
    `SELECT (SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits WHERE inhparent = 'event'::regclass)
              + pg_total_relation_size('event_relay') AS bytes,
            (SELECT count(*) FROM event) AS events,
            (SELECT count(*) FROM event_relay) AS pairs`,
  );
  const row = rows[0] as { bytes: number; events: number; pairs: number };
  return { bytes: Number(row.bytes) / Number(row.events), uniqueEvents: Number(row.events), pairs: Number(row.pairs) };
}

async function measure(name: 'pglite' | 'postgres', db: Database, stream: ReturnType<typeof arrivalStream>, batchSize: number): Promise<BenchResult[]> {
  await migrate(db, { lockTimeoutMs: 30_000 });
  const ids = await getOrCreateRelayIds(db, [{ url: 'wss://a.bench/', network: 'clearnet' }, { url: 'wss://b.bench/', network: 'clearnet' }], 'bench');
  const relayIds = { a: ids.get('wss://a.bench/') as number, b: ids.get('wss://b.bench/') as number };
  const start = performance.now();
  let newEvents = 0;
  // Batches as a synchronizer would send them: consecutive arrivals from one relay.
  for (let offset = 0; offset < stream.length; offset += batchSize) {
    const slice = stream.slice(offset, offset + batchSize);
    for (const relay of ['a', 'b'] as const) {
      const events = slice.filter((item) => item.relay === relay).map((item) => item.event);
      if (events.length > 0) newEvents += (await insertEventBatch(db, events, relayIds[relay], { batchSize })).newEvents;
    }
  }
  const elapsed = performance.now() - start;
  const size = await bytesPerEvent(db);
  const results: BenchResult[] = [
    { bench: 'insert', case: `${name}: ${TOTAL} events, 30% duplicates, batches of ${batchSize}`, value: (TOTAL * 1000) / elapsed, unit: 'events/s', n: TOTAL, newEvents, seconds: elapsed / 1000 },
    { bench: 'storage', case: `${name}: tables + indexes per unique event (${size.uniqueEvents} events, ${size.pairs} event-relay pairs)`, value: size.bytes, unit: 'bytes/event' },
  ];
  for (const result of results) console.log(JSON.stringify(result));
  return results;
}

export async function run(target = process.env.BENCH_INSERT_TARGET ?? 'both'): Promise<BenchResult[]> {
  const stream = arrivalStream();
  const batchSize = databaseSchema.parse({}).insert_batch_size;
  const results: BenchResult[] = [];
  if (target === 'pglite' || target === 'both') {
    const dir = mkdtempSync(join(tmpdir(), 'bigbrotr-bench-'));
    const db = await openDatabase({ ...databaseSchema.parse({}), data_dir: join(dir, 'data') });
    try {
      results.push(...(await measure('pglite', db, stream, batchSize)));
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (target === 'postgres' || target === 'both') {
    await withScratchPostgres('bigbrotr_bench', async (url) => {
      const db = await openDatabase({ ...databaseSchema.parse({}), url });
      try {
        results.push(...(await measure('postgres', db, stream, batchSize)));
      } finally {
        await db.close();
      }
    });
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run(process.argv[2]).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
