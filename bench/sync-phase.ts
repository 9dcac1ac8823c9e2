/**
 * One phase of the sync benchmark, run in its own process so its peak RSS (getrusage maxrss) is its
 * own: `raw` pages through the relay with the synchronizer's pagination and discards the events (no
 * verification, no database: the download ceiling); `pglite` / `postgres` run the synchronizer's
 * relay pass into a fresh archive, then a second pass (the next scheduled visit: nothing new) and a
 * full re-scan of the whole window (everything already archived). Prints one JSON line.
 */
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config/loader.js';
import type { Config } from '../src/config/schema.js';
import { migrate } from '../src/db/migrate.js';
import { openDatabase } from '../src/db/open.js';
import { getOrCreateRelayIds } from '../src/db/relays.js';
import { silentLogger } from '../src/observability/logger.js';
import { RelayFilterLimits } from '../src/relay/filter-limits.js';
import { paginateWindow } from '../src/relay/paginate.js';
import { openRelaySession } from '../src/services/relay-session.js';
import { reconcileWindow } from '../src/relay/negentropy-window.js';
import { syncRelayPass } from '../src/services/sync/relay-sync.js';
import { createVerifyPool } from '../src/verify/pool.js';
import { withScratchPostgres } from './scratch-postgres.js';

const [phase, relayUrl, expectedText] = process.argv.slice(2);
// pglite-create takes the data directory in place of the relay URL.
const expected = Number(expectedText);
const now = Math.floor(Date.now() / 1000);

const peakRssMiB = () => Math.round(process.resourceUsage().maxRSS / 1024);

/** The download ceiling: the synchronizer's fetching (negentropy + ids, or REQ pagination) without verification or storage. */
async function rawPhase(config: Config, url: string, method: 'negentropy' | 'req') {
  const session = await openRelaySession(url, config, silentLogger(), { trusted: true });
  const limits = new RelayFilterLimits({
    pageLimit: config.sync.page_limit,
    maxKinds: config.sync.max_kinds_per_filter,
    maxAuthors: config.sync.max_authors_per_filter,
    maxIds: config.sync.max_ids_per_filter,
    maxFilters: config.sync.max_filters_per_request,
    maxRequestBytes: config.sync.max_request_bytes,
    requiresKinds: false,
    largestPage: 0,
  });
  let received = 0;
  const start = performance.now();
  const count = async (events: unknown[]) => {
    received += events.length;
  };
  const pageWindow = (since: number, until: number) =>
    paginateWindow(
      session.fetchPage,
      { since, until, limits, maxRequests: config.sync.max_pages_per_pass, countEvents: session.count },
      count,
    );
  const report =
    method === 'negentropy'
      ? await reconcileWindow(
          session,
          {
            since: 0,
            until: now,
            localItems: async () => [],
            maxLocalRecords: config.sync.negentropy_max_local_records,
            frameSizeLimit: config.sync.negentropy_frame_size_limit,
            timeoutMs: config.sync.negentropy_timeout_ms,
            limits,
            maxRequests: config.sync.max_pages_per_pass,
            withheld: new Set(),
            pageWindow,
          },
          count,
        )
      : await pageWindow(0, now);
  const seconds = (performance.now() - start) / 1000;
  session.close();
  if (method === 'negentropy' && (received !== expected || !report.complete))
    throw new Error(`raw negentropy: received ${received} of ${expected} (${report.incompleteReason ?? 'complete'})`);
  const pages = 'sessions' in report ? report.sessions + report.requests : report.requests;
  return {
    phase: `raw-${method}`,
    events: received,
    expected,
    complete: report.complete,
    incompleteReason: report.incompleteReason ?? null,
    seconds,
    eventsPerSecond: received / seconds,
    pages,
    peakRssMiB: peakRssMiB(),
  };
}

async function archivePhase(name: 'pglite' | 'postgres', config: Config, url: string) {
  const db = await openDatabase(config.database);
  const pool = await createVerifyPool({
    workers: config.verify.workers,
    batchSize: config.verify.batch_size,
    knownSignatures: config.verify.known_signatures,
  });
  try {
    await migrate(db, { lockTimeoutMs: 30_000 });
    const ids = await getOrCreateRelayIds(db, [{ url, network: 'clearnet' }], 'bench');
    const relay = { id: ids.get(url) as number, url };
    const pass = async (since?: number) => {
      const start = performance.now();
      const result = await syncRelayPass({
        db,
        relay,
        config,
        pool,
        logger: silentLogger(),
        clock: () => now * 1000,
        ...(since === undefined ? {} : { since, until: now }),
      });
      return {
        result,
        seconds: (performance.now() - start) / 1000,
        rssAfterMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
        peakSoFarMiB: peakRssMiB(),
      };
    };
    const first = await pass();
    if (first.result.stored !== expected || !first.result.report.complete)
      throw new Error(`${name}: stored ${first.result.stored} of ${expected}`);
    const second = await pass();
    const rescan = await pass(0);
    if (second.result.stored !== 0 || rescan.result.stored !== 0)
      throw new Error(`${name}: later passes stored ${second.result.stored} and ${rescan.result.stored} events (expected 0)`);
    return {
      phase: name,
      method: first.result.method,
      events: first.result.stored,
      seconds: first.seconds,
      eventsPerSecond: expected / first.seconds,
      pages: first.result.report.requests,
      secondPassSeconds: second.seconds,
      rescanSeconds: rescan.seconds,
      peakRssAfterFirstPassMiB: first.peakSoFarMiB,
      rssAfterPassesMiB: [first.rssAfterMiB, second.rssAfterMiB, rescan.rssAfterMiB],
      peakRssMiB: peakRssMiB(),
    };
  } finally {
    await pool.close();
    await db.close();
  }
}

async function main() {
  if (!phase || !relayUrl || (phase !== 'pglite-create' && !Number.isFinite(expected)))
    throw new Error('usage: sync-phase.ts raw-negentropy|raw-req|pglite|postgres RELAY_URL EXPECTED_EVENTS');
  const base = loadConfig({ env: {} }).config;
  if (phase === 'raw-negentropy') return rawPhase(base, relayUrl, 'negentropy');
  if (phase === 'raw-req') return rawPhase(base, relayUrl, 'req');
  if (phase === 'pglite-create') {
    // Creating the embedded archive (initdb inside WebAssembly) is a one-time cost measured apart.
    const db = await openDatabase(loadConfig({ env: {}, overrides: { 'database.data_dir': relayUrl } }).config.database);
    await migrate(db, { lockTimeoutMs: 30_000 });
    await db.close();
    return { phase, peakRssMiB: peakRssMiB() };
  }
  if (phase === 'pglite') {
    const dataDir = process.argv[5];
    if (!dataDir) throw new Error('pglite phase: data directory missing');
    // BENCH_EMBEDDED_SETTINGS=name=value,… tries other embedded database settings.
    const settings = process.env.BENCH_EMBEDDED_SETTINGS
      ? { 'database.embedded_settings': process.env.BENCH_EMBEDDED_SETTINGS.split(',') }
      : {};
    return archivePhase('pglite', loadConfig({ env: {}, overrides: { 'database.data_dir': dataDir, ...settings } }).config, relayUrl);
  }
  return withScratchPostgres('bigbrotr_bench_sync', (url) =>
    archivePhase('postgres', loadConfig({ env: {}, overrides: { 'database.url': url } }).config, relayUrl),
  );
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
