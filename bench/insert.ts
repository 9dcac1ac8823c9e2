/**
 * Bulk insert throughput and storage size: `npm run bench -- insert` (or `npx tsx bench/insert.ts
 * [pglite|postgres|both]`). 100k synthetic events in batches of `database.insert_batch_size`, 30% of the
 * stream being duplicates of earlier events arriving from a second relay (as when relays overlap).
 * Reports events/s and bytes per stored event (tables + indexes) for each adapter.
 * `BENCH_INSERT_PATH=statement` measures the statement insertEventBatch used before COPY (array-literal
 * parameters expanded with unnest, kept here so the comparison can be repeated: decision 16).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { databaseSchema } from '../src/config/schema.js';
import type { Database, Queryable } from '../src/db/database.js';
import { needsRawJson, sanitizeTags, sanitizeText } from '../src/db/event-codec.js';
import { insertEventBatch, type InsertBatchResult } from '../src/db/events.js';
import { isSingleLetterTagName } from '../src/nostr/tags.js';
import { migrate } from '../src/db/migrate.js';
import { openDatabase } from '../src/db/open.js';
import { getOrCreateRelayIds } from '../src/db/relays.js';
import type { NostrEvent } from '../src/nostr/event.js';
import type { BenchResult } from './result.js';
import { withScratchPostgres } from './scratch-postgres.js';

const TOTAL = Number(process.env.BENCH_INSERT_EVENTS ?? 100_000);
const DUPLICATE_SHARE = 0.3;
/** `copy`: insertEventBatch as it is; `statement`: the array-literal statement below. */
const PATH = process.env.BENCH_INSERT_PATH ?? 'copy';
if (PATH !== 'copy' && PATH !== 'statement') throw new Error(`BENCH_INSERT_PATH must be copy or statement, not ${PATH}`);

// --- The statement before COPY (src/db/events.ts until decision 16): the batch as array-literal
// parameters, each built here as one string, the fixed-size bytea columns (id, pubkey, sig) as one
// hex string for the whole batch decoded once by the server and cut by position.
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

const ARRAY_SPECIAL = /["\\]/;
const ARRAY_SPECIAL_GLOBAL = /["\\]/g;
const quoteArrayElement = (text: string): string =>
  ARRAY_SPECIAL.test(text) ? `"${text.replace(ARRAY_SPECIAL_GLOBAL, '\\$&')}"` : `"${text}"`;

function textArrayLiteral(values: readonly (string | null)[]): string {
  return `{${values.map((value) => (value === null ? 'NULL' : quoteArrayElement(value))).join(',')}}`;
}

/** The event's tagvalues as a text[] literal (the same values as tagValues in src/db/event-codec.ts). */
function tagValuesLiteral(tags: string[][], clean: boolean): string {
  let literal = '{';
  const few: string[] = [];
  let many: Set<string> | undefined;
  for (const tag of tags) {
    const name = tag[0];
    const value = tag[1];
    if (name === undefined || value === undefined || !isSingleLetterTagName(name)) continue;
    const key = `${name}:${clean ? value : sanitizeText(value)}`;
    if (many !== undefined) {
      if (many.has(key)) continue;
      many.add(key);
    } else {
      if (few.includes(key)) continue;
      few.push(key);
      if (few.length > 16) many = new Set(few);
    }
    literal += literal.length > 1 ? `,${quoteArrayElement(key)}` : quoteArrayElement(key);
  }
  return `${literal}}`;
}

async function statementInsert(db: Queryable, events: NostrEvent[], relayId: number, batchSize: number): Promise<InsertBatchResult> {
  const total: InsertBatchResult = { newEvents: 0, newRelayLinks: 0 };
  const seenAt = new Date();
  for (let start = 0; start < events.length; start += batchSize) {
    const seen = new Set<string>();
    let keys = '';
    const createdAt: number[] = [];
    const kinds: number[] = [];
    let tagsLiteral = '{';
    let contentLiteral = '{';
    let tagValuesLiterals = '{';
    const rawHex: (string | null)[] = [];
    for (const event of events.slice(start, start + batchSize)) {
      if (seen.has(event.id)) continue;
      seen.add(event.id);
      const separator = createdAt.length > 0 ? ',' : '';
      keys += event.id + event.pubkey + event.sig;
      createdAt.push(event.created_at);
      kinds.push(event.kind);
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
    total.newEvents += Number(rows[0]?.new_events ?? 0);
    total.newRelayLinks += Number(rows[0]?.new_links ?? 0);
  }
  return total;
}

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
  const id = createHash('sha256')
    .update(JSON.stringify([0, pubkey, created_at, kind, tags, content]))
    .digest('hex');
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

async function measure(
  name: 'pglite' | 'postgres',
  db: Database,
  stream: ReturnType<typeof arrivalStream>,
  batchSize: number,
): Promise<BenchResult[]> {
  await migrate(db, { lockTimeoutMs: 30_000 });
  const ids = await getOrCreateRelayIds(
    db,
    [
      { url: 'wss://a.bench/', network: 'clearnet' },
      { url: 'wss://b.bench/', network: 'clearnet' },
    ],
    'bench',
  );
  const relayIds = { a: ids.get('wss://a.bench/') as number, b: ids.get('wss://b.bench/') as number };
  const start = performance.now();
  let newEvents = 0;
  // Batches as a synchronizer would send them: consecutive arrivals from one relay.
  for (let offset = 0; offset < stream.length; offset += batchSize) {
    const slice = stream.slice(offset, offset + batchSize);
    for (const relay of ['a', 'b'] as const) {
      const events = slice.filter((item) => item.relay === relay).map((item) => item.event);
      if (events.length === 0) continue;
      const stored =
        PATH === 'copy'
          ? await insertEventBatch(db, events, relayIds[relay], { batchSize })
          : await statementInsert(db, events, relayIds[relay], batchSize);
      newEvents += stored.newEvents;
    }
  }
  const elapsed = performance.now() - start;
  const size = await bytesPerEvent(db);
  const results: BenchResult[] = [
    {
      bench: 'insert',
      case: `${name} (${PATH}): ${TOTAL} events, 30% duplicates, batches of ${batchSize}`,
      value: (TOTAL * 1000) / elapsed,
      unit: 'events/s',
      n: TOTAL,
      newEvents,
      seconds: elapsed / 1000,
      path: PATH,
    },
    {
      bench: 'storage',
      case: `${name}: tables + indexes per unique event (${size.uniqueEvents} events, ${size.pairs} event-relay pairs)`,
      value: size.bytes,
      unit: 'bytes/event',
    },
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
