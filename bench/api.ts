/**
 * API latency: `npm run bench -- api`. Each database gets a fresh process (bench/api-phase.ts) that
 * builds a synthetic archive directly in SQL (BENCH_API_EVENTS, default 1,000,000 events, on
 * PostgreSQL; BENCH_API_PGLITE_EVENTS, default 200,000, on PGlite), VACUUM ANALYZEs it, measures the
 * SQL of each query type alone (BENCH_API_SQL_SAMPLES, default 500, one at a time) and starts the
 * real HTTP server on 127.0.0.1. This process is the client: BENCH_API_CONCURRENCY requests in flight
 * (default 8); per query type BENCH_API_WARMUP requests (default 200), then BENCH_API_REQUESTS timed
 * ones (default 2,000), each with fresh random parameters drawn from the generated data by a seeded
 * generator (BENCH_API_SEED, default 1: two runs ask the same things). Reports p50, p99 and
 * requests/s per query type, and the build time.
 *
 * The archive relay (`relay`): one WebSocket client (`ws`, JSON.parse of every message) pages through
 * the newest BENCH_API_RELAY_EVENTS events (default 100,000) with `REQ {limit: BENCH_API_RELAY_PAGE
 * (500), until}`, BENCH_API_RELAY_RUNS times (3); permessage-deflate is offered only with
 * BENCH_API_RELAY_DEFLATE=1 (the result says whether the server took it). Reports events/s, bytes per
 * message and the CPU seconds of the client, the server process and its PostgreSQL backends.
 *
 * BENCH_API_PLANS=FILE writes the EXPLAIN (ANALYZE, BUFFERS) of the main search paths there;
 * BENCH_API_MIGRATIONS_UPTO=0006 builds the schema without later migrations (an index measured
 * before it is added); BENCH_API_DATABASES=postgres,pglite picks the databases; BENCH_API_ONLY=a,c2
 * the query types (`relay`: the archive relay). BENCH_API_KEEP_DATABASE=1 keeps the scratch PostgreSQL
 * database (its name is logged); BENCH_API_DATABASE=name then reuses it instead of building again
 * (pending migrations are applied to it first; BENCH_API_EVENTS must equal its event count), so a
 * 10,000,000-event data set is built once (`BENCH_API_EVENTS=10000000`, about 20-30 minutes here).
 * BENCH_API_PARTITIONS=month builds the two years in monthly partitions instead of yearly ones.
 *
 * The data set is a pure function of the event number n, so the client can rebuild any parameter:
 * id(n) = sha256(int8 n), author(n) = floor(AUTHORS · u(n)³) with u(n) from md5(n) (Zipf-like: the
 * top author writes ~3.7 % of all events, the median one a few dozen), pubkey(a) = sha256('author:a').
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Pool } from 'undici';
import WebSocket from 'ws';
import type { ArchiveFilter } from '../src/db/event-query.js';
import { mulberry32 } from '../test/support/seeded-random.js';
import type { BenchResult } from './result.js';
import { processCpuSeconds } from './process-stats.js';

// ---------------------------------------------------------------------------------------------
// The data set, shared with bench/api-phase.ts (which generates the same values in SQL)
// ---------------------------------------------------------------------------------------------

export const AUTHORS = 20_000;
/** 2024-01-01T00:00:00Z and two years (2024 and 2025: two yearly partitions). */
export const T0 = 1_704_067_200;
export const SPAN = 731 * 86_400;
/** Kinds and their share of the events. */
export const KINDS: readonly (readonly [number, number])[] = [
  [1, 0.545],
  [7, 0.2],
  [6, 0.05],
  [9735, 0.04],
  [1111, 0.03],
  [4, 0.03],
  [0, 0.02],
  [3, 0.02],
  [16, 0.02],
  [10002, 0.015],
  [5, 0.01],
  [30023, 0.01],
  [30078, 0.005],
];
/** Hashtag vocabulary: rank r is picked with probability ~ r^(-2/3) (index = floor(V · random()³)). */
const REAL_HASHTAGS = [
  'nostr',
  'bitcoin',
  'grownostr',
  'zap',
  'art',
  'photography',
  'music',
  'news',
  'plebchain',
  'foodstr',
  'asknostr',
  'meme',
  'memes',
  'gm',
  'coffeechain',
  'introductions',
  'lightning',
  'privacy',
  'freedom',
  'dev',
  'catstr',
  'dogstr',
  'travel',
  'books',
  'science',
  'tech',
  'ai',
  'gaming',
  'sports',
  'politics',
  'economics',
  'health',
  'fitness',
  'nature',
  'weather',
  'movies',
  'anime',
  'running',
  'cooking',
  'garden',
];
export const HASHTAG_COUNT = 2_000;
export const hashtag = (index: number): string => REAL_HASHTAGS[index] ?? `topic${index}`;
export const HASHTAG_SQL_ARRAY = `ARRAY[${REAL_HASHTAGS.map((tag) => `'${tag}'`).join(',')}]`;

export const eventId = (n: number): string => {
  const buffer = Buffer.alloc(8);
  buffer.writeBigInt64BE(BigInt(n));
  return createHash('sha256').update(buffer).digest('hex');
};
export const pubkeyOf = (author: number): string => createHash('sha256').update(`author:${author}`).digest('hex');
export const authorOf = (n: number): number => {
  const u = Number.parseInt(createHash('md5').update(String(n)).digest('hex').slice(0, 8), 16) / 4_294_967_296;
  return Math.floor(AUTHORS * (u * u * u));
};

// ---------------------------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------------------------

const REQUESTS = Number(process.env.BENCH_API_REQUESTS ?? 2_000);
const WARMUP = Number(process.env.BENCH_API_WARMUP ?? 200);
const CONCURRENCY = Number(process.env.BENCH_API_CONCURRENCY ?? 8);
const here = dirname(fileURLToPath(import.meta.url));
/** The archive relay client: pages of REQ {limit, until}, newest first, BENCH_API_RELAY_RUNS times. */
const RELAY_PAGE = Number(process.env.BENCH_API_RELAY_PAGE ?? 500);
const RELAY_EVENTS = Number(process.env.BENCH_API_RELAY_EVENTS ?? 100_000);
const RELAY_RUNS = Number(process.env.BENCH_API_RELAY_RUNS ?? 3);
const RELAY_DEFLATE = process.env.BENCH_API_RELAY_DEFLATE === '1';

interface Ready {
  url: string;
  events: number;
  eventRelayPairs: number;
  buildSeconds: number;
  analyzeSeconds: number;
  databaseMiB: number;
  migrations: string;
  /** Database side of each query type, one at a time (bench/api-phase.ts serialCosts). */
  sql: Record<string, { samples: number; p50Ms: number; p99Ms: number; meanStatements: number; maxStatements: number }>;
  plans: string;
}

/** One request: its path, and the filter and limit the API turns it into (src/db/event-query.ts). */
export interface Sample {
  path: string;
  filter?: ArchiveFilter;
  limit?: number;
}

export interface QueryType {
  /** `(x) description`; BENCH_API_ONLY=x,y runs only these. */
  name: string;
  /** A request with fresh random parameters. */
  next: (events: number) => Sample;
  /** Second pages: the paths are prepared before the timed requests (they need the first page's cursor). */
  prepare?: (pool: Pool, events: number, count: number) => Promise<string[]>;
}

// mulberry32: the same BENCH_API_SEED draws the same requests in every run (before/after comparisons).
const uniform = mulberry32(Number(process.env.BENCH_API_SEED ?? 1));
export const random = (max: number) => Math.floor(uniform() * max);
/** Half the time an author picked by events (heavy authors often), half uniformly among all authors. */
export const pickAuthor = (events: number) => (uniform() < 0.5 ? authorOf(random(events)) : random(AUTHORS));
export const pickKind = () => {
  let u = uniform();
  for (const [kind, share] of KINDS) if ((u -= share) < 0) return kind;
  return 1;
};
/** Half the time picked by use (popular hashtags often), half uniformly over the vocabulary. */
export const pickHashtag = () => (uniform() < 0.5 ? hashtag(Math.floor(HASHTAG_COUNT * uniform() ** 3)) : hashtag(random(HASHTAG_COUNT)));
const OTHER_KINDS = [7, 6, 0, 3, 10002, 30023];
const WINDOWS = [3_600, 86_400, 7 * 86_400];

async function getJson(pool: Pool, path: string): Promise<{ status: number; body: string }> {
  const response = await pool.request({ method: 'GET', path });
  return { status: response.statusCode, body: await response.body.text() };
}

/** Share of all events written by author a: P(floor(A·u³) = a) for u uniform. */
const authorShare = (author: number) => Math.cbrt((author + 1) / AUTHORS) - Math.cbrt(author / AUTHORS);
const KIND1_SHARE = (KINDS.find(([kind]) => kind === 1) as readonly [number, number])[1];
/** An author picked by events among those expected to have at least 150 kind-1 events (so a second page). */
export const pickHeavyAuthor = (events: number): number => {
  for (;;) {
    const author = authorOf(random(events));
    if (events * KIND1_SHARE * authorShare(author) >= 150) return author;
  }
};

/** First pages of author + kind 1 for heavy authors until `count` of them have a second page; their second-page paths. */
async function secondPages(pool: Pool, events: number, count: number): Promise<string[]> {
  const paths: string[] = [];
  let attempts = 0;
  const worker = async () => {
    // Small archives have few such authors: then their pages are asked more than once.
    while (paths.length < count && ++attempts <= count * 10) {
      const path = `/v1/events?authors=${pubkeyOf(pickHeavyAuthor(events))}&kinds=1&limit=100`;
      const first = await getJson(pool, path);
      const cursor = (JSON.parse(first.body) as { next_cursor: string | null }).next_cursor;
      if (cursor && paths.length < count) paths.push(`${path}&cursor=${cursor}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  if (paths.length === 0) throw new Error('no author with a second page of kind-1 events');
  return Array.from({ length: count }, (_, i) => paths[i % paths.length] as string);
}

export const QUERY_TYPES: QueryType[] = [
  {
    name: '(a) event by id: GET /v1/events/{id}',
    next: (events) => {
      const id = eventId(random(events));
      return { path: `/v1/events/${id}`, filter: { ids: [id] }, limit: 1 };
    },
  },
  {
    name: '(b) search by 1 id: ids=',
    next: (events) => {
      const id = eventId(random(events));
      return { path: `/v1/events?ids=${id}`, filter: { ids: [id] }, limit: 101 };
    },
  },
  {
    name: '(c) author + kind 1: authors=&kinds=1&limit=100',
    next: (events) => {
      const author = pubkeyOf(pickAuthor(events));
      return { path: `/v1/events?authors=${author}&kinds=1&limit=100`, filter: { authors: [author], kinds: [1] }, limit: 101 };
    },
  },
  {
    name: '(c2) author + another kind (7, 6, 0, 3, 10002 or 30023): authors=&kinds=&limit=100',
    next: (events) => {
      const author = pubkeyOf(pickAuthor(events));
      const kind = OTHER_KINDS[random(OTHER_KINDS.length)] as number;
      return { path: `/v1/events?authors=${author}&kinds=${kind}&limit=100`, filter: { authors: [author], kinds: [kind] }, limit: 101 };
    },
  },
  {
    name: '(d) hashtag: #t=&limit=100',
    next: () => {
      const tag = pickHashtag();
      return { path: `/v1/events?%23t=${tag}&limit=100`, filter: { tags: { t: [tag] } }, limit: 101 };
    },
  },
  {
    name: '(d2) replies/reactions to an event: #e=&limit=100',
    next: (events) => {
      const id = eventId(random(events));
      return { path: `/v1/events?%23e=${id}&limit=100`, filter: { tags: { e: [id] } }, limit: 101 };
    },
  },
  {
    name: '(d3) mentions of an author: #p=&limit=100',
    next: (events) => {
      const author = pubkeyOf(pickAuthor(events));
      return { path: `/v1/events?%23p=${author}&limit=100`, filter: { tags: { p: [author] } }, limit: 101 };
    },
  },
  {
    name: '(e) kind + time range (1 h, 1 day or 7 days): kinds=&since=&until=&limit=100',
    next: () => {
      const window = WINDOWS[random(WINDOWS.length)] as number;
      const since = T0 + random(SPAN - window);
      const kind = pickKind();
      return {
        path: `/v1/events?kinds=${kind}&since=${since}&until=${since + window}&limit=100`,
        filter: { kinds: [kind], since, until: since + window },
        limit: 101,
      };
    },
  },
  {
    name: '(f) second page of author + kind 1 via cursor (authors with 150+ kind-1 events)',
    next: (events) => {
      const author = pubkeyOf(pickHeavyAuthor(events));
      return { path: '', filter: { authors: [author], kinds: [1] }, limit: 101 };
    },
    prepare: secondPages,
  },
  { name: '(g) archive summary: GET /v1/stats (cached)', next: () => ({ path: '/v1/stats' }) },
];

/** The archive relay measurement runs unless BENCH_API_ONLY names other types only (`relay` names it). */
export const relaySelected = () => !process.env.BENCH_API_ONLY || process.env.BENCH_API_ONLY.split(',').includes('relay');

export const selectedTypes = () => {
  const only = process.env.BENCH_API_ONLY?.split(',');
  return QUERY_TYPES.filter((type) => !only || only.some((prefix) => type.name.startsWith(`(${prefix})`)));
};

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;

async function drive(pool: Pool, type: QueryType, events: number, count: number) {
  const prepared = type.prepare ? await type.prepare(pool, events, count) : undefined;
  const latencies: number[] = [];
  let errors = 0;
  let returned = 0;
  let sampled = 0;
  let bytes = 0;
  let issued = 0;
  let firstError: string | undefined;
  const worker = async () => {
    while (issued < count) {
      const path = prepared ? (prepared[issued] as string) : type.next(events).path;
      issued++;
      const start = performance.now();
      const response = await pool.request({ method: 'GET', path });
      const body = await response.body.text();
      latencies.push(performance.now() - start);
      bytes += body.length;
      if (response.statusCode !== 200) {
        errors++;
        firstError ??= `${response.statusCode} ${body.slice(0, 200)} for ${path.slice(0, 200)}`;
      } else if (latencies.length % 10 === 0) {
        // Count the events of one response in ten (parsing all of them would load the client).
        const parsed = JSON.parse(body) as { events?: unknown[]; event?: unknown };
        returned += parsed.events ? parsed.events.length : parsed.event ? 1 : 0;
        sampled++;
      }
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    seconds: Number(seconds.toFixed(2)),
    requestsPerSecond: Math.round(latencies.length / seconds),
    p50Ms: Number(percentile(latencies, 50).toFixed(2)),
    p90Ms: Number(percentile(latencies, 90).toFixed(2)),
    p99Ms: Number(percentile(latencies, 99).toFixed(2)),
    maxMs: Number((latencies[latencies.length - 1] as number).toFixed(2)),
    meanEventsPerResponse: sampled ? Number((returned / sampled).toFixed(1)) : null,
    meanResponseKiB: Number((bytes / latencies.length / 1024).toFixed(1)),
    errors,
    ...(firstError ? { firstError } : {}),
    // The machine's 1-minute load average when the type finished: other work competes for the cores.
    loadAverage: Number((loadavg()[0] as number).toFixed(1)),
  };
}

/** Every query type against a running server: warm-up, then the timed requests. */
export async function measureApi(
  url: string,
  events: number,
  onResult: (name: string, result: Awaited<ReturnType<typeof drive>>) => void = () => undefined,
) {
  const pool = new Pool(url, { connections: CONCURRENCY, pipelining: 1 });
  const measured: { name: string; result: Awaited<ReturnType<typeof drive>> }[] = [];
  try {
    for (const type of selectedTypes()) {
      await drive(pool, type, events, WARMUP);
      const result = await drive(pool, type, events, REQUESTS);
      if (result.errors > 0) console.error(`api: ${type.name}: ${result.errors} errors, the first: ${result.firstError}`);
      onResult(type.name, result);
      measured.push({ name: type.name, result });
    }
  } finally {
    await pool.close();
  }
  return measured;
}

/** The PostgreSQL backends serving a database (found by name in pg_stat_activity), for their CPU. */
async function backendPids(database: string): Promise<number[]> {
  const admin = new pg.Client({ connectionString: process.env.BIGBROTR_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' });
  try {
    await admin.connect();
    const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [database]);
    return rows.map((row) => row.pid);
  } catch {
    return [];
  } finally {
    await admin.end().catch(() => undefined);
  }
}

/**
 * One client reads the archive relay as a syncing client would: `REQ {limit: RELAY_PAGE, until}`,
 * the next `until` the oldest created_at of the page (events seen before are skipped by id), until
 * RELAY_EVENTS events or the archive's end. Every message is parsed (JSON.parse), every page checked
 * for NIP-01 order (created_at descending, then id). permessage-deflate is offered only with
 * BENCH_API_RELAY_DEFLATE=1; what the server accepted is reported.
 */
async function pageArchiveRelay(url: string, cpu: { server?: number; database?: string }) {
  const socket = new WebSocket(url.replace(/^http/, 'ws') + '/', { perMessageDeflate: RELAY_DEFLATE });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const deflate = socket.extensions.includes('permessage-deflate');
  const pids = cpu.database ? await backendPids(cpu.database) : [];
  const cpuOf = () => ({
    client: process.cpuUsage(),
    server: cpu.server ? processCpuSeconds(cpu.server) : 0,
    database: pids.reduce((sum, pid) => sum + processCpuSeconds(pid), 0),
  });
  const seen = new Set<string>();
  let bytes = 0;
  let pages = 0;
  let page: { id: string; created_at: number }[] = [];
  let endOfPage: ((closed?: string) => void) | undefined;
  socket.on('message', (data: Buffer) => {
    bytes += data.length;
    const message = JSON.parse(data.toString('utf8')) as [string, string, { id: string; created_at: number }];
    if (message[0] === 'EVENT') page.push(message[2]);
    else if (message[0] === 'EOSE') endOfPage?.();
    else if (message[0] === 'CLOSED' || message[0] === 'NOTICE') endOfPage?.(JSON.stringify(message));
  });
  const before = cpuOf();
  const started = performance.now();
  let until: number | undefined;
  let disorder = 0;
  for (;;) {
    page = [];
    const answered = new Promise<string | undefined>((resolve) => (endOfPage = resolve));
    pages++;
    socket.send(JSON.stringify(['REQ', `p${pages}`, until === undefined ? { limit: RELAY_PAGE } : { limit: RELAY_PAGE, until }]));
    const refused = await answered;
    if (refused) throw new Error(`archive relay refused page ${pages}: ${refused}`);
    socket.send(JSON.stringify(['CLOSE', `p${pages}`]));
    let fresh = 0;
    for (let index = 0; index < page.length; index++) {
      const event = page[index] as { id: string; created_at: number };
      const previous = page[index - 1];
      if (previous && (previous.created_at < event.created_at || (previous.created_at === event.created_at && previous.id < event.id)))
        disorder++;
      if (seen.has(event.id)) continue;
      seen.add(event.id);
      fresh++;
    }
    if (fresh === 0 || seen.size >= RELAY_EVENTS) break;
    until = (page[page.length - 1] as { created_at: number }).created_at;
  }
  const seconds = (performance.now() - started) / 1000;
  const after = cpuOf();
  socket.close();
  if (disorder > 0) throw new Error(`archive relay: ${disorder} events out of NIP-01 order`);
  return {
    events: seen.size,
    pages,
    seconds: Number(seconds.toFixed(2)),
    eventsPerSecond: Math.round(seen.size / seconds),
    meanMessageBytes: Math.round(bytes / seen.size),
    megabytesPerSecond: Number((bytes / seconds / 1e6).toFixed(1)),
    deflate,
    cpuSeconds: {
      client: Number(((after.client.user + after.client.system - before.client.user - before.client.system) / 1e6).toFixed(2)),
      server: Number((after.server - before.server).toFixed(2)),
      database: Number((after.database - before.database).toFixed(2)),
    },
    loadAverage: Number((loadavg()[0] as number).toFixed(1)),
  };
}

/** RELAY_RUNS passes of pageArchiveRelay (the first warms the caches and is reported too). */
export async function measureArchiveRelay(url: string, cpu: { server?: number; database?: string } = {}) {
  const runs: Awaited<ReturnType<typeof pageArchiveRelay>>[] = [];
  for (let run = 0; run < RELAY_RUNS; run++) runs.push(await pageArchiveRelay(url, cpu));
  return runs;
}

async function dropScratchDatabase(name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: process.env.BIGBROTR_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' });
  try {
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } catch (error) {
    console.error(`api: could not drop ${name}: ${(error as Error).message}`);
  } finally {
    await admin.end().catch(() => undefined);
  }
}

async function startPhase(kind: string, target: string, events: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'api-phase.ts'), kind, target, String(events)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  // A phase killed by a signal cannot drop its scratch database (named after its pid): drop it here.
  void exited.then(async (code) => {
    if (code === null && kind === 'postgres') await dropScratchDatabase(`bigbrotr_bench_api_${child.pid}`);
  });
  const ready = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    void exited.then((code) => reject(new Error(`api phase ${kind} exited with ${code ?? child.signalCode}`)));
  });
  if (!ready.startsWith('READY ')) throw new Error(`api phase ${kind}: unexpected "${ready.slice(0, 200)}"`);
  const final = new Promise<string>((resolve) => lines.once('line', resolve));
  return {
    ready: JSON.parse(ready.slice(6)) as Ready,
    pid: child.pid as number,
    stop: async () => {
      child.stdin.end();
      const [line, code] = await Promise.all([final, exited]);
      if (code !== 0) throw new Error(`api phase ${kind} failed with exit code ${code}`);
      return JSON.parse(line) as { peakRssMiB: number };
    },
  };
}

export async function run(): Promise<BenchResult[]> {
  const databases = (process.env.BENCH_API_DATABASES ?? 'postgres,pglite').split(',').map((name) => name.trim());
  const dir = mkdtempSync(join(tmpdir(), 'bigbrotr-bench-api-'));
  const results: BenchResult[] = [];
  const plans: string[] = [];
  try {
    for (const kind of databases) {
      if (kind !== 'postgres' && kind !== 'pglite') throw new Error(`BENCH_API_DATABASES: unknown database ${kind}`);
      const events = Number(
        kind === 'postgres'
          ? (process.env.BENCH_API_EVENTS ?? 1_000_000)
          : (process.env.BENCH_API_PGLITE_EVENTS ?? process.env.BENCH_API_EVENTS ?? 200_000),
      );
      const phase = await startPhase(kind, kind === 'pglite' ? join(dir, 'data') : '-', events);
      const { ready } = phase;
      // PGlite builds about 3,500 events/s here (1,000,000 took 280 s): 200,000 by default keeps the whole bench near 10 minutes.
      const reduced =
        kind === 'pglite' && events < Number(process.env.BENCH_API_EVENTS ?? 1_000_000)
          ? ' (PGlite reduced from 1,000,000: building 1M takes ~5 min)'
          : '';
      const label = `${kind}, ${events.toLocaleString('en-US')} events${reduced}`;
      console.log(JSON.stringify({ bench: 'api', database: kind, ...ready, plans: undefined }));
      plans.push(`## ${label}\n\n${ready.plans}`);
      results.push(
        {
          bench: 'api',
          case: `build ${events.toLocaleString('en-US')} events (${ready.eventRelayPairs.toLocaleString('en-US')} event-relay pairs) in SQL, ${kind}${reduced}`,
          value: ready.buildSeconds,
          unit: 's',
          ...ready,
          plans: undefined,
        },
        { bench: 'api', case: `VACUUM ANALYZE after the build, ${kind}`, value: ready.analyzeSeconds, unit: 's' },
        { bench: 'api', case: `database size after the build, ${kind}`, value: ready.databaseMiB, unit: 'MiB' },
      );
      const measured = await measureApi(ready.url, events, (query, result) =>
        console.log(JSON.stringify({ bench: 'api', database: kind, query, ...result })),
      );
      for (const { name, result } of measured) {
        results.push(
          { bench: 'api', case: `${name}: p50, ${label}`, value: result.p50Ms, unit: 'ms', database: kind, query: name, ...result },
          { bench: 'api', case: `${name}: p99, ${label}`, value: result.p99Ms, unit: 'ms' },
          { bench: 'api', case: `${name}: throughput, ${label}, ${CONCURRENCY} in flight`, value: result.requestsPerSecond, unit: 'req/s' },
        );
      }
      if (relaySelected()) {
        const runs = await measureArchiveRelay(ready.url, {
          server: phase.pid,
          ...(kind === 'postgres' ? { database: `bigbrotr_bench_api_${phase.pid}` } : {}),
        });
        runs.forEach((result, index) => {
          console.log(JSON.stringify({ bench: 'api', database: kind, query: 'archive relay', run: index + 1, ...result }));
          const how = `one client (ws, JSON.parse per message), REQ {limit: ${RELAY_PAGE}, until} pages, permessage-deflate ${result.deflate ? 'on' : 'off'}`;
          results.push({
            bench: 'api',
            case: `(relay) archive relay, ${how}, run ${index + 1} of ${runs.length}: ${result.events.toLocaleString('en-US')} events, ${label}`,
            value: result.eventsPerSecond,
            unit: 'events/s',
            database: kind,
            ...result,
          });
        });
      }
      for (const [name, cost] of Object.entries(ready.sql)) {
        results.push(
          {
            bench: 'api',
            case: `${name}: search alone (its SQL statements), one at a time, p99, ${label}`,
            value: cost.p99Ms,
            unit: 'ms',
            database: kind,
            query: name,
            ...cost,
          },
          { bench: 'api', case: `${name}: search alone, mean statements sent, ${label}`, value: cost.meanStatements, unit: 'statements' },
        );
      }
      const end = await phase.stop();
      results.push({ bench: 'api', case: `peak RSS of the server process (build + server), ${kind}`, value: end.peakRssMiB, unit: 'MiB' });
    }
    if (process.env.BENCH_API_PLANS) writeFileSync(process.env.BENCH_API_PLANS, plans.join('\n\n'));
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
