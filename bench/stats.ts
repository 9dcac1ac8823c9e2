/**
 * Statistics latency: `npm run bench -- stats` (PostgreSQL). A scratch database with the schema up to
 * migration 0013 gets BENCH_STATS_EVENTS synthetic events written in SQL (default 10,000,000;
 * bench/stats-build.ts), or BENCH_STATS_DATABASE_URL names one built before (kept with
 * BENCH_STATS_KEEP=1). Then:
 *   1. the full scans the statistics used before migration 0014, BENCH_STATS_SCAN_CALLS times each (default 5);
 *   2. migration 0014 (its one-time recount is the backfill an existing archive pays);
 *   3. the statistics functions (src/db) BENCH_STATS_CALLS times each (default 50), one at a time;
 *   4. the same with the delta rows of 255 unfolded statements of 30 rows each (the most the
 *      fold in passing leaves);
 *   5. the HTTP endpoints the dashboard and `/v1/stats…` clients call, with the statistics cache off
 *      (api.stats_cache_seconds 0), BENCH_STATS_CALLS requests each, one at a time.
 * Reports p50 and p99 of each.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startHttpServer } from '../src/api/http-server.js';
import { loadConfig } from '../src/config/loader.js';
import type { Database } from '../src/db/database.js';
import { migrate, migrationsDir, readMigrations } from '../src/db/migrate.js';
import { archiveSummary, eventsPerDay, topKinds } from '../src/db/network-stats.js';
import { openDatabase } from '../src/db/open.js';
import { collectStats } from '../src/db/stats.js';
import { silentLogger } from '../src/observability/logger.js';
import { metricsRegistry } from '../src/observability/metrics.js';
import type { BenchResult } from './result.js';
import { withScratchPostgres } from './scratch-postgres.js';
import { buildStatsArchive } from './stats-build.js';

const EVENTS = Number(process.env.BENCH_STATS_EVENTS ?? 10_000_000);
const CALLS = Number(process.env.BENCH_STATS_CALLS ?? 50);
const SCAN_CALLS = Number(process.env.BENCH_STATS_SCAN_CALLS ?? 5);
const COUNTERS_MIGRATION = '0014';
const log = (message: string) => process.stderr.write(`[stats ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

/** The statements behind /v1/stats, /v1/stats/kinds, /v1/stats/events-per-day and `bigbrotr stats` before migration 0014. */
const FULL_SCANS: Record<string, string> = {
  'archive summary counts (/v1/stats)': `SELECT (SELECT count(*) FROM event), (SELECT count(*) FROM event_relay), (SELECT count(*) FROM relay_check),
      (SELECT min(created_at) FROM event), (SELECT max(created_at) FROM event), (SELECT max(archived_at) FROM event)`,
  'events per kind (/v1/stats/kinds)': 'SELECT kind, count(*) FROM event GROUP BY kind ORDER BY count(*) DESC, kind LIMIT 20',
  'events per created day, 30 days (/v1/stats/events-per-day)': `SELECT to_char(to_timestamp(created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD'), count(*) FROM event
      WHERE created_at >= extract(epoch FROM date_trunc('day', now() AT TIME ZONE 'UTC') - make_interval(days => 29))::bigint AND created_at < extract(epoch FROM now())::bigint + 86400 GROUP BY 1 ORDER BY 1`,
  'events per archived day, 30 days (basis=archived)': `SELECT to_char(archived_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), count(*) FROM event
      WHERE archived_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - make_interval(days => 29) GROUP BY 1 ORDER BY 1`,
  'bigbrotr stats counts':
    'SELECT (SELECT count(*) FROM event), (SELECT count(*) FROM event_relay), (SELECT count(*) FROM metadata), (SELECT count(*) FROM relay_check)',
};

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;

async function timed(calls: number, fn: () => Promise<unknown>): Promise<{ p50Ms: number; p99Ms: number; calls: number }> {
  await fn();
  const latencies: number[] = [];
  for (let i = 0; i < calls; i += 1) {
    const start = performance.now();
    await fn();
    latencies.push(performance.now() - start);
  }
  latencies.sort((a, b) => a - b);
  return { p50Ms: Number(percentile(latencies, 50).toFixed(2)), p99Ms: Number(percentile(latencies, 99).toFixed(2)), calls };
}

function report(results: BenchResult[], name: string, measured: { p50Ms: number; p99Ms: number; calls: number }): void {
  const load = Number((loadavg()[0] as number).toFixed(1));
  const lines: BenchResult[] = [
    { bench: 'stats', case: `${name}: p50`, value: measured.p50Ms, unit: 'ms', ...measured, loadAverage: load },
    { bench: 'stats', case: `${name}: p99`, value: measured.p99Ms, unit: 'ms' },
  ];
  console.log(JSON.stringify(lines[0]));
  results.push(...lines);
}

/** Migrations before the counters, in a directory of their own. */
function migrationsBeforeCounters(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bigbrotr-bench-stats-migrations-'));
  for (const migration of readMigrations().filter((file) => file.name.slice(0, 4) < COUNTERS_MIGRATION))
    copyFileSync(join(migrationsDir(), migration.name), join(dir, migration.name));
  return dir;
}

async function measure(url: string, results: BenchResult[]): Promise<void> {
  const { config } = loadConfig({
    env: {},
    overrides: { 'database.url': url, 'database.statement_timeout_ms': 0, 'api.stats_cache_seconds': 0, 'api.rate_limit_per_minute': 0 },
  });
  const db: Database = await openDatabase(config.database);
  try {
    const before = migrationsBeforeCounters();
    try {
      await migrate(db, { lockTimeoutMs: 60_000, logger: silentLogger(), dir: before });
    } finally {
      rmSync(before, { recursive: true, force: true });
    }
    const { rows } = await db.query<{ events: string; counters: boolean }>(
      `SELECT (SELECT count(*) FROM event) AS events, to_regclass('archive_counter') IS NOT NULL AS counters`,
    );
    let events = Number(rows[0]?.events ?? 0);
    if (events === 0) {
      log(`building ${EVENTS} events`);
      const built = await buildStatsArchive(db, EVENTS, log);
      events = EVENTS;
      results.push({ bench: 'stats', case: `build ${EVENTS.toLocaleString('en-US')} events in SQL`, value: built.buildSeconds, unit: 's' });
    }
    const label = `${events.toLocaleString('en-US')} events`;
    if (rows[0]?.counters !== true) {
      for (const [name, sql] of Object.entries(FULL_SCANS)) {
        log(`full scan: ${name}`);
        report(results, `before 0014, full scan: ${name}, ${label}`, await timed(SCAN_CALLS, () => db.query(sql)));
      }
      const started = performance.now();
      await migrate(db, { lockTimeoutMs: 60_000, logger: silentLogger() });
      results.push({
        bench: 'stats',
        case: `migration 0014 on ${label} (its one-time recount)`,
        value: (performance.now() - started) / 1000,
        unit: 's',
      });
    }
    await db.query('SELECT bigbrotr_fold_archive_counters()');
    const functions: Record<string, () => Promise<unknown>> = {
      'archiveSummary (/v1/stats)': () => archiveSummary(db),
      'topKinds 20 (/v1/stats/kinds)': () => topKinds(db, 20),
      'eventsPerDay 30, created': () => eventsPerDay(db, 30, 'created'),
      'eventsPerDay 30, archived': () => eventsPerDay(db, 30, 'archived'),
      'collectStats (bigbrotr stats)': () => collectStats(db),
    };
    for (const [name, fn] of Object.entries(functions)) report(results, `counters, folded: ${name}, ${label}`, await timed(CALLS, fn));
    // The worst case between folds: 255 statements' delta rows (30 each: kinds, days, totals).
    await db.query(
      `INSERT INTO archive_counter_delta (metric, key, value)
       SELECT (ARRAY['events_by_kind', 'events_by_created_day', 'events_by_archived_day'])[1 + i % 3], CASE i % 3 WHEN 0 THEN i % 13 ELSE floor(extract(epoch FROM now()) / 86400)::bigint - i % 5 END, 0
       FROM generate_series(1, 255 * 28) AS i
       UNION ALL SELECT 'events', 0, 0 FROM generate_series(1, 255) UNION ALL SELECT 'event_relay', 0, 0 FROM generate_series(1, 255)`,
    );
    await db.exec('ANALYZE archive_counter_delta');
    for (const [name, fn] of Object.entries(functions))
      report(results, `counters, 7,650 delta rows unfolded: ${name}, ${label}`, await timed(CALLS, fn));
    await db.query('SELECT bigbrotr_fold_archive_counters()');

    const server = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      registry: metricsRegistry(),
      checkReady: () => db.ping(),
      readinessTimeoutMs: 2_000,
      logger: silentLogger(),
      api: { db, config: () => config, version: 'bench' },
    });
    try {
      for (const path of [
        '/v1/stats',
        '/v1/stats/kinds?limit=20',
        '/v1/stats/events-per-day?days=30&basis=created',
        '/v1/stats/events-per-day?days=30&basis=archived',
        '/v1/stats/relays?limit=10',
        '/v1/stats/latency',
        '/v1/stats/uptime?hours=168',
        '/v1/stats/sync?limit=100',
      ]) {
        report(
          results,
          `HTTP GET ${path}, cache off, ${label}`,
          await timed(CALLS, async () => {
            const response = await fetch(`${server.url}${path}`);
            if (response.status !== 200) throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`);
            await response.arrayBuffer();
          }),
        );
      }
    } finally {
      await server.close();
    }
  } finally {
    await db.close();
  }
}

export async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const existing = process.env.BENCH_STATS_DATABASE_URL;
  if (existing) await measure(existing, results);
  else
    await withScratchPostgres('bigbrotr_bench_stats', (url) => measure(url, results), {
      keep: Boolean(process.env.BENCH_STATS_KEEP),
      onKept: (name) => log(`kept database ${name}`),
    });
  return results;
}
