/**
 * One database of the API benchmark, in its own process: a fresh archive (PGlite in a directory, or
 * a scratch PostgreSQL database), EVENTS synthetic events written directly in SQL (`INSERT … SELECT
 * FROM generate_series`, event and event_relay in one statement per batch; the data set is described
 * in bench/api.ts), VACUUM ANALYZE, a check of tagvalues against the codec, EXPLAIN (ANALYZE, BUFFERS)
 * of the main search paths, then the real HTTP server on 127.0.0.1. Prints `READY {json}`, serves
 * until stdin ends, then prints one JSON line (peak RSS) and drops the scratch database.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startHttpServer } from '../src/api/http-server.js';
import { loadConfig } from '../src/config/loader.js';
import type { Config } from '../src/config/schema.js';
import type { Database } from '../src/db/database.js';
import { tagValues } from '../src/db/event-codec.js';
import { eventQuery, type ArchiveFilter, type EventPosition } from '../src/db/event-query.js';
import { searchEvents } from '../src/db/event-search.js';
import { splitEventPartition } from '../src/db/maintenance.js';
import { migrate, migrationsDir as sourceMigrationsDir, readMigrations } from '../src/db/migrate.js';
import { openDatabase } from '../src/db/open.js';
import { silentLogger } from '../src/observability/logger.js';
import { monthPartitionName } from '../src/services/maintenance/plan.js';
import { metricsRegistry } from '../src/observability/metrics.js';
import { AUTHORS, authorOf, eventId, HASHTAG_COUNT, HASHTAG_SQL_ARRAY, hashtag, KINDS, pubkeyOf, selectedTypes, SPAN, T0 } from './api.js';
import { POSTGRES_SERVER, withScratchPostgres } from './scratch-postgres.js';

const RELAYS = 8;
const SQL_SAMPLES = Number(process.env.BENCH_API_SQL_SAMPLES ?? 500);
const peakRssMiB = () => Math.round(process.resourceUsage().maxRSS / 1024);
const log = (message: string) => process.stderr.write(`[api ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

/** Helpers of the generator, in their own schema (dropped after the build). All deterministic in n. */
const HELPERS = `
CREATE SCHEMA bench_gen;
CREATE FUNCTION bench_gen.eid(n bigint) RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN sha256(int8send(n));
CREATE FUNCTION bench_gen.pk(a integer) RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN sha256(convert_to('author:' || a, 'UTF8'));
CREATE FUNCTION bench_gen.u(n bigint) RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN ('x' || substr(md5(n::text), 1, 8))::bit(32)::bigint::float8 / 4294967296::float8;
CREATE FUNCTION bench_gen.hashtag(i integer) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN coalesce((${HASHTAG_SQL_ARRAY})[i + 1], 'topic' || i);
`;

function kindCase(column: string): string {
  let cumulative = 0;
  const branches = KINDS.map(([kind, share]) => {
    cumulative += share;
    return `WHEN ${column} < ${cumulative.toFixed(6)} THEN ${kind}`;
  });
  return `CASE ${branches.join(' ')} ELSE 1 END`;
}

/**
 * One batch [lo, hi]. Per event: kind by share; `e`/`p` references to an earlier event m (mostly
 * recent ones) and its author; `t` hashtags on 30 % of notes (Zipf-like over the vocabulary);
 * contact lists of 10-150 `p`; relay lists of `r`; long-form articles with `d`/`t`. Each event is
 * seen on 1 relay plus each of the 7 others with probability 0.2.
 */
const BATCH_SQL = `
WITH g AS MATERIALIZED (
  SELECT n, bench_gen.eid(n) AS id, floor(${AUTHORS} * (un * un * un))::integer AS a,
         random() AS ku, random() AS r1, random() AS r2, random() AS r3,
         greatest(0, n - 1 - floor(least(n, 200000) * power(random(), 3))::bigint) AS m,
         least(${T0 + SPAN - 1}, greatest(${T0}, ${T0} + floor((n + random()) * ${SPAN}::float8 / $3)::bigint + floor((random() - 0.5) * 7200)::bigint)) AS created_at
  FROM generate_series($1::bigint, $2::bigint) AS n CROSS JOIN LATERAL (SELECT bench_gen.u(n) AS un) AS x
), k AS MATERIALIZED (
  SELECT g.*, ${kindCase('ku')} AS kind, encode(bench_gen.eid(m), 'hex') AS ref_id, encode(bench_gen.pk(floor(${AUTHORS} * (um * um * um))::integer), 'hex') AS ref_pk
  FROM g CROSS JOIN LATERAL (SELECT bench_gen.u(m) AS um) AS y
), t AS MATERIALIZED (
  SELECT k.*,
    CASE kind
      WHEN 1 THEN
        CASE WHEN r1 < 0.4 THEN jsonb_build_array(jsonb_build_array('e', ref_id, '', 'root'), jsonb_build_array('p', ref_pk)) ELSE '[]'::jsonb END
        || CASE WHEN r2 < 0.3 THEN (SELECT jsonb_agg(jsonb_build_array('t', bench_gen.hashtag(floor(${HASHTAG_COUNT} * power(random(), 3))::integer))) FROM generate_series(0, floor(r3 * 3)::integer)) ELSE '[]'::jsonb END
      WHEN 7 THEN jsonb_build_array(jsonb_build_array('e', ref_id), jsonb_build_array('p', ref_pk), jsonb_build_array('k', '1'))
      WHEN 6 THEN jsonb_build_array(jsonb_build_array('e', ref_id, 'wss://relay-' || (n % ${RELAYS}) || '.bench.example/'), jsonb_build_array('p', ref_pk))
      WHEN 9735 THEN jsonb_build_array(jsonb_build_array('p', ref_pk), jsonb_build_array('e', ref_id), jsonb_build_array('bolt11', 'lnbc' || (10 + floor(r3 * 10000)::integer) || 'n1p' || md5(n::text)), jsonb_build_array('description', '{"kind":9734}'))
      WHEN 1111 THEN jsonb_build_array(jsonb_build_array('E', ref_id), jsonb_build_array('K', '1'), jsonb_build_array('P', ref_pk), jsonb_build_array('e', ref_id), jsonb_build_array('k', '1'), jsonb_build_array('p', ref_pk))
      WHEN 4 THEN jsonb_build_array(jsonb_build_array('p', encode(bench_gen.pk(floor(${AUTHORS} * r3)::integer), 'hex')))
      WHEN 3 THEN (SELECT jsonb_agg(jsonb_build_array('p', encode(bench_gen.pk(floor(${AUTHORS} * power(random(), 2))::integer), 'hex'))) FROM generate_series(1, 10 + floor(r2 * 140)::integer))
      WHEN 16 THEN jsonb_build_array(jsonb_build_array('e', ref_id), jsonb_build_array('p', ref_pk), jsonb_build_array('k', '1'))
      WHEN 10002 THEN (SELECT jsonb_agg(jsonb_build_array('r', 'wss://relay-' || ((n + i) % 50) || '.example.com/')) FROM generate_series(1, 2 + floor(r2 * 5)::integer) AS i)
      WHEN 5 THEN jsonb_build_array(jsonb_build_array('e', ref_id))
      WHEN 30023 THEN jsonb_build_array(jsonb_build_array('d', 'article-' || n), jsonb_build_array('title', 'Article ' || n), jsonb_build_array('published_at', created_at::text))
        || (SELECT jsonb_agg(jsonb_build_array('t', bench_gen.hashtag(floor(${HASHTAG_COUNT} * power(random(), 3))::integer))) FROM generate_series(0, floor(r3 * 3)::integer))
      WHEN 30078 THEN jsonb_build_array(jsonb_build_array('d', 'app-settings'))
      ELSE '[]'::jsonb
    END AS tags,
    CASE
      WHEN kind IN (1, 1111) THEN 'note ' || n || ': ' || left(repeat(md5(n::text) || ' ', 12), 20 + floor(r3 * 300)::integer)
      WHEN kind = 7 THEN CASE WHEN r3 < 0.7 THEN '+' ELSE '🤙' END
      WHEN kind = 0 THEN '{"name":"author' || a || '","about":"' || md5(n::text) || '","picture":"https://img.example/' || a || '.png"}'
      WHEN kind = 4 THEN encode(sha256(int8send(-n)), 'base64') || '?iv=' || left(md5(n::text), 22)
      WHEN kind = 5 THEN 'deleted'
      WHEN kind = 30023 THEN repeat('Long-form paragraph ' || md5(n::text) || E'.\\n', 40 + floor(r3 * 120)::integer)
      WHEN kind = 30078 THEN '{"theme":"dark","n":' || n || '}'
      ELSE ''
    END AS content
  FROM k
), ins AS (
  INSERT INTO event (id, pubkey, created_at, kind, tags, content, sig, tagvalues)
  SELECT id, bench_gen.pk(a), created_at, kind, tags, content, sha256(id || '\\x01'::bytea) || sha256(id || '\\x02'::bytea),
    -- What src/db/event-codec.ts tagValues computes: '<letter>:<first value>', deduplicated, in order of first appearance.
    ARRAY(SELECT v FROM (
      SELECT DISTINCT ON (v) v, o FROM (
        SELECT (x.t ->> 0) || ':' || (x.t ->> 1) AS v, x.o FROM jsonb_array_elements(tags) WITH ORDINALITY AS x(t, o)
        WHERE length(x.t ->> 0) = 1 AND (x.t ->> 0) ~ '^[a-zA-Z]$' AND (x.t ->> 1) IS NOT NULL) AS a
      ORDER BY v, o) AS s ORDER BY o)
  FROM t
  RETURNING id, created_at
)
INSERT INTO event_relay (event_id, relay_id, first_seen_at)
SELECT ins.id, r.id, to_timestamp(ins.created_at + floor(random() * 600))
FROM ins CROSS JOIN relay r
WHERE r.id % ${RELAYS} = get_byte(ins.id, 0) % ${RELAYS} OR random() < 0.2
`;

/**
 * BENCH_API_PARTITIONS=month: the two years of the data set in monthly partitions of event, as
 * `maintenance.event_partition_interval: month` lays out the months ahead (the empty yearly partitions
 * replaced, with the maintenance service's own function and names).
 */
async function monthlyPartitions(db: Database) {
  for (const year of [2024, 2025]) {
    const months = Array.from({ length: 12 }, (_, month) => {
      const from = Date.UTC(year, month, 1) / 1000;
      return { name: monthPartitionName('event', from), from, to: Date.UTC(year, month + 1, 1) / 1000 };
    });
    if (!(await splitEventPartition(db, `event_y${year}`, months, 0, 60_000)))
      throw new Error(`could not split event_y${year} into months`);
  }
  log(`${db.kind}: 2024 and 2025 in 24 monthly partitions`);
}

/** Events, event-relay pairs and the database's bytes, counted (after a build, or of a reused data set). */
async function archiveSize(db: Database): Promise<{ events: number; pairs: number; bytes: number }> {
  const { rows } = await db.query<{ events: number; pairs: number; bytes: number }>(
    'SELECT (SELECT count(*) FROM event)::int AS events, (SELECT count(*) FROM event_relay)::int AS pairs, pg_database_size(current_database())::float8 AS bytes',
  );
  return rows[0] as { events: number; pairs: number; bytes: number };
}

async function build(db: Database, events: number) {
  await db.query(
    `INSERT INTO relay (url, network, state, discovered_from) SELECT 'wss://relay-' || i || '.bench.example/', 'clearnet', 'active', 'seed' FROM generate_series(0, ${RELAYS - 1}) AS i`,
  );
  await db.exec(HELPERS);
  if (process.env.BENCH_API_PARTITIONS === 'month') await monthlyPartitions(db);
  // PostgreSQL: two batches at a time (one per core here); PGlite has one connection.
  const batch = db.kind === 'postgres' ? 50_000 : 20_000;
  const parallel = db.kind === 'postgres' ? 2 : 1;
  const started = performance.now();
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < events) {
      const lo = next;
      const hi = Math.min(events, lo + batch) - 1;
      next = hi + 1;
      await db.transaction(async (tx) => {
        await tx.query('SELECT setseed($1)', [((lo / batch) % 1000) / 1000]);
        await tx.query(BATCH_SQL, [lo, hi, events]);
      });
      done += hi - lo + 1;
      if (done % 100_000 === 0 || done === events)
        log(
          `${done} events after ${((performance.now() - started) / 1000).toFixed(1)} s, RSS ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB`,
        );
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  const buildSeconds = (performance.now() - started) / 1000;
  await db.exec('DROP SCHEMA bench_gen CASCADE');
  const analyzeStarted = performance.now();
  await db.exec('VACUUM (ANALYZE) event');
  await db.exec('VACUUM (ANALYZE) event_relay');
  const analyzeSeconds = (performance.now() - analyzeStarted) / 1000;
  const row = await archiveSize(db);
  if (row.events !== events) throw new Error(`built ${row.events} events, expected ${events}`);
  return {
    buildSeconds: Number(buildSeconds.toFixed(1)),
    analyzeSeconds: Number(analyzeSeconds.toFixed(1)),
    eventRelayPairs: row.pairs,
    databaseMiB: Math.round(row.bytes / 2 ** 20),
  };
}

/** The generated rows agree with the codec (tagvalues) and with the client's copy of the generator (ids, authors). */
async function check(db: Database, events: number) {
  const sample = Array.from({ length: 500 }, (_, i) => Math.floor((i * events) / 500) + (i % 7));
  const { rows } = await db.query<{ id: string; pubkey: string; tags: string[][]; tagvalues: string[] }>(
    `SELECT encode(id, 'hex') AS id, encode(pubkey, 'hex') AS pubkey, tags, tagvalues FROM event WHERE id = ANY(ARRAY(SELECT decode(x, 'hex') FROM unnest($1::text[]) AS x))`,
    [sample.map(eventId)],
  );
  if (rows.length !== sample.length) throw new Error(`check: found ${rows.length} of ${sample.length} sampled ids`);
  const byId = new Map(rows.map((row) => [row.id, row]));
  for (const n of sample) {
    const row = byId.get(eventId(n));
    if (!row) throw new Error(`check: event ${n} missing`);
    if (row.pubkey !== pubkeyOf(authorOf(n)))
      throw new Error(`check: event ${n} has author ${row.pubkey}, the client expects ${pubkeyOf(authorOf(n))}`);
    if (JSON.stringify(row.tagvalues) !== JSON.stringify(tagValues(row.tags)))
      throw new Error(
        `check: event ${n}: tagvalues ${JSON.stringify(row.tagvalues)} differ from the codec's ${JSON.stringify(tagValues(row.tags))}`,
      );
  }
}

/** EXPLAIN (ANALYZE, BUFFERS) of the SQL the API runs (src/db/event-query.ts), with typical and heavy parameters. */
async function explainPlans(db: Database, events: number): Promise<string> {
  const { rows: heavy } = await db.query<{ pubkey: string; n: number }>(
    `SELECT encode(pubkey, 'hex') AS pubkey, count(*)::int AS n FROM event WHERE kind = 1 GROUP BY pubkey ORDER BY count(*) DESC LIMIT 1`,
  );
  const top = heavy[0] as { pubkey: string; n: number };
  const typicalAuthor = pubkeyOf(Math.floor(AUTHORS / 2));
  const { rows: page1 } = await db.query<{ created_at: number; id: string }>(
    `SELECT created_at, encode(id, 'hex') AS id FROM event WHERE pubkey = decode($1, 'hex') AND kind = 1 ORDER BY created_at DESC, id DESC OFFSET 99 LIMIT 1`,
    [top.pubkey],
  );
  const position: EventPosition | undefined = page1[0] ? { createdAt: Number(page1[0].created_at), id: page1[0].id } : undefined;
  const day = T0 + Math.floor(SPAN / 2);
  const cases: [string, ArchiveFilter, EventPosition?][] = [
    ['id (GET /v1/events/{id}, ids=)', { ids: [eventId(Math.floor(events / 3))] }],
    [`author + kind 1, the heaviest author (${top.n} kind-1 events)`, { authors: [top.pubkey], kinds: [1] }],
    ['author + kind 1, a typical author', { authors: [typicalAuthor], kinds: [1] }],
    ['author + kind 3 (rare for the author), the heaviest author', { authors: [top.pubkey], kinds: [3] }],
    ['second page (cursor) of author + kind 1, the heaviest author', { authors: [top.pubkey], kinds: [1] }, position],
    [`hashtag, the most popular (#t=${hashtag(0)})`, { tags: { t: [hashtag(0)] } }],
    [`hashtag, a rare one (#t=${hashtag(HASHTAG_COUNT - 1)})`, { tags: { t: [hashtag(HASHTAG_COUNT - 1)] } }],
    ['mentions of the heaviest author (#p=)', { tags: { p: [top.pubkey] } }],
    ['replies/reactions to an event (#e=)', { tags: { e: [eventId(events - 1000)] } }],
    ['kind 1 + one day (since/until)', { kinds: [1], since: day, until: day + 86_400 }],
    ['kind 30023 + 7 days (since/until)', { kinds: [30023], since: day, until: day + 7 * 86_400 }],
  ];
  const sections: string[] = [];
  for (const [title, filter, at] of cases) {
    // The statement that gave the answer: for a tag search, the time window that held the page (src/db/event-search.ts).
    const recorder = recording(db);
    await searchEvents(recorder, [filter], title.startsWith('id') ? 1 : 101, at);
    const query = recorder.last ?? eventQuery(filter, title.startsWith('id') ? 1 : 101, at);
    const before =
      recorder.statements > 1
        ? `-- statement ${recorder.statements} of ${recorder.statements} (the newest created_at, then time windows until one held the page)\n`
        : '';
    // Twice: the first run warms the cache, the second is the one shown.
    await db.query(`EXPLAIN (ANALYZE, BUFFERS) ${query.text}`, query.values);
    const { rows } = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${query.text}`, query.values);
    const values = JSON.stringify(query.values, (_key, value: unknown) =>
      typeof value === 'string' && value.length > 20 ? `${value.slice(0, 12)}…` : value,
    );
    sections.push(
      `### ${title}\n\n\`\`\`sql\n${before}${query.text}\n-- ${values}\n\`\`\`\n\n\`\`\`\n${rows.map((row) => row['QUERY PLAN']).join('\n')}\n\`\`\``,
    );
  }
  return sections.join('\n\n');
}

/** A Queryable that counts the statements sent through it and remembers the last one. */
function recording(db: Database) {
  const recorder = {
    statements: 0,
    last: undefined as { text: string; values: unknown[] } | undefined,
    query: <Row>(text: string, values: unknown[] = []) => {
      recorder.statements += 1;
      recorder.last = { text, values };
      return db.query<Row>(text, values);
    },
    exec: (text: string) => db.exec(text),
  };
  return recorder;
}

/**
 * The database side of each query type, one query at a time (no HTTP, no concurrency, so other load
 * on the machine matters less): SQL_SAMPLES random requests of the type run as the REST search runs
 * them (src/db/event-search.ts searchEvents: a tag search may send several statements, one per time
 * window), timed from the first statement sent to the last row received; and how many statements.
 */
async function serialCosts(db: Database, events: number) {
  const costs: Record<string, { samples: number; p50Ms: number; p99Ms: number; meanStatements: number; maxStatements: number }> = {};
  for (const type of selectedTypes()) {
    const times: number[] = [];
    const statements: number[] = [];
    for (let attempt = 0; times.length < SQL_SAMPLES && attempt < SQL_SAMPLES * 20; attempt++) {
      const sample = type.next(events);
      if (!sample.filter || sample.limit === undefined) break;
      let position: EventPosition | undefined;
      if (type.prepare) {
        // A second page: where the first page of this author ended, if it has a second page.
        const rows = await searchEvents(db, [sample.filter], sample.limit);
        const last = rows[sample.limit - 2];
        if (rows.length < sample.limit || !last) continue;
        position = { createdAt: last.created_at, id: last.id };
      }
      const recorder = recording(db);
      const started = performance.now();
      await searchEvents(recorder, [sample.filter], sample.limit, position);
      times.push(performance.now() - started);
      statements.push(recorder.statements);
    }
    if (times.length === 0) continue;
    times.sort((a, b) => a - b);
    const at = (p: number) => times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)] as number;
    costs[type.name] = {
      samples: times.length,
      p50Ms: Number(at(50).toFixed(2)),
      p99Ms: Number(at(99).toFixed(2)),
      meanStatements: Number((statements.reduce((sum, value) => sum + value, 0) / statements.length).toFixed(2)),
      maxStatements: Math.max(...statements),
    };
    log(`${db.kind}: ${type.name}: ${JSON.stringify(costs[type.name])}`);
  }
  return costs;
}

/** A data set built by an earlier run (BENCH_API_KEEP_DATABASE, then BENCH_API_DATABASE=name): counted, not rebuilt. */
async function reuse(db: Database, events: number) {
  const row = await archiveSize(db);
  if (row.events !== events) throw new Error(`BENCH_API_DATABASE holds ${row.events} events, BENCH_API_EVENTS asks for ${events}`);
  await db.exec('ANALYZE');
  return { buildSeconds: 0, analyzeSeconds: 0, eventRelayPairs: row.pairs, databaseMiB: Math.round(row.bytes / 2 ** 20), reused: true };
}

async function phase(config: Config, events: number, migrationsDir?: string, reused = false) {
  const db = await openDatabase(config.database);
  try {
    const migrated = await migrate(db, { lockTimeoutMs: 60_000, logger: silentLogger(), ...(migrationsDir ? { dir: migrationsDir } : {}) });
    log(`${db.kind}: migrated to ${migrated.current}; ${reused ? 'reusing' : 'building'} ${events} events`);
    const built = reused ? await reuse(db, events) : await build(db, events);
    log(`${db.kind}: built in ${built.buildSeconds} s, VACUUM ANALYZE ${built.analyzeSeconds} s, ${built.databaseMiB} MiB`);
    await check(db, events);
    const plans = await explainPlans(db, events);
    const sql = await serialCosts(db, events);
    const server = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      registry: metricsRegistry(),
      checkReady: () => db.ping(),
      readinessTimeoutMs: 2_000,
      logger: silentLogger(),
      api: { db, config: () => config, version: 'bench' },
    });
    process.stdout.write(`READY ${JSON.stringify({ url: server.url, events, ...built, migrations: migrated.current, sql, plans })}\n`);
    await new Promise<void>((resolve) => {
      process.stdin.on('end', resolve);
      process.stdin.resume();
    });
    await server.close();
    return { peakRssMiB: peakRssMiB() };
  } finally {
    await db.close();
  }
}

async function main() {
  const [kind, target, eventsText] = process.argv.slice(2);
  const events = Number(eventsText);
  if (!kind || !target || !Number.isSafeInteger(events) || events < 1000)
    throw new Error('usage: api-phase.ts pglite DATA_DIR EVENTS | postgres - EVENTS');
  // The archive relay client pages through many REQs a minute: no per-address request limit either.
  const overrides = { 'api.rate_limit_per_minute': 0, 'api.relay_requests_per_minute': 0 };
  // BENCH_API_MIGRATIONS_UPTO=0006: the schema without later migrations (an index measured before it is added).
  let migrationsDir: string | undefined;
  const upTo = process.env.BENCH_API_MIGRATIONS_UPTO;
  if (upTo) {
    migrationsDir = mkdtempSync(join(tmpdir(), 'bigbrotr-bench-api-migrations-'));
    const source = readMigrations();
    for (const migration of source.filter((file) => file.name.slice(0, 4) <= upTo))
      copyFileSync(join(sourceMigrationsDir(), migration.name), join(migrationsDir, migration.name));
  }
  try {
    if (kind === 'pglite')
      return await phase(loadConfig({ env: {}, overrides: { ...overrides, 'database.data_dir': target } }).config, events, migrationsDir);
    const existing = process.env.BENCH_API_DATABASE;
    if (existing) {
      if (!/^[a-z_][a-z0-9_]*$/.test(existing)) throw new Error(`BENCH_API_DATABASE: expected a database name, got ${existing}`);
      const url = new URL(POSTGRES_SERVER);
      url.pathname = `/${existing}`;
      return await phase(
        loadConfig({ env: {}, overrides: { ...overrides, 'database.url': url.toString() } }).config,
        events,
        migrationsDir,
        true,
      );
    }
    return await withScratchPostgres(
      'bigbrotr_bench_api',
      (url) => phase(loadConfig({ env: {}, overrides: { ...overrides, 'database.url': url } }).config, events, migrationsDir),
      {
        keep: Boolean(process.env.BENCH_API_KEEP_DATABASE),
        onKept: (name) => log(`kept database ${name}`),
      },
    );
  } finally {
    if (migrationsDir) rmSync(migrationsDir, { recursive: true, force: true });
  }
}

main().then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  },
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
