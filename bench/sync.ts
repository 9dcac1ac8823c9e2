/**
 * End-to-end sync throughput: `npm run bench -- sync`. A test relay on 127.0.0.1 holding N signed
 * events (500 per page cap, permessage-deflate off), one `syncRelayPass` into a fresh PGlite and a
 * fresh PostgreSQL database: WebSocket, shape check, id + signature verification in the worker pool
 * (both cores), bulk insert and cursor, all included. Reports events/s and peak RSS.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { loadConfig } from '../src/config/loader.js';
import type { Config } from '../src/config/schema.js';
import { migrate } from '../src/db/migrate.js';
import { openDatabase } from '../src/db/open.js';
import { getOrCreateRelayIds } from '../src/db/relays.js';
import { silentLogger } from '../src/observability/logger.js';
import { syncRelayPass } from '../src/services/sync/relay-sync.js';
import { createVerifyPool } from '../src/verify/pool.js';
import { generateEvents } from '../test/support/events.js';
import { startTestRelay } from '../test/support/relay/server.js';
import type { BenchResult } from './index.js';

const EVENT_COUNT = Number(process.env.BENCH_SYNC_EVENTS ?? 20_000);
const POSTGRES_SERVER = process.env.BIGBROTR_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function passInto(name: string, config: Config, relayUrl: string): Promise<BenchResult> {
  const db = await openDatabase(config.database);
  const pool = await createVerifyPool({ workers: 0, batchSize: config.verify.batch_size });
  try {
    await migrate(db, { lockTimeoutMs: 30_000 });
    const ids = await getOrCreateRelayIds(db, [{ url: relayUrl, network: 'clearnet' }], 'bench');
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
    const start = performance.now();
    const result = await syncRelayPass({ db, relay: { id: ids.get(relayUrl) as number, url: relayUrl }, config, pool, logger: silentLogger(), since: 0, until: 2_000_000_000 });
    const seconds = (performance.now() - start) / 1000;
    clearInterval(sampler);
    if (result.stored !== EVENT_COUNT) throw new Error(`${name}: stored ${result.stored} of ${EVENT_COUNT}`);
    const bench: BenchResult = { bench: 'sync', case: `${name}: one pass, ${EVENT_COUNT} events, relay cap 500`, value: EVENT_COUNT / seconds, unit: 'events/s', seconds, pages: result.report.pages, peakRssMiB: Math.round(peakRss / 2 ** 20) };
    console.log(JSON.stringify(bench));
    return bench;
  } finally {
    await pool.close();
    await db.close();
  }
}

export async function run(): Promise<BenchResult[]> {
  const started = performance.now();
  const events = generateEvents({ count: EVENT_COUNT, authors: 200, kinds: [1, 7, 6], createdAt: [1_600_000_000, 1_700_000_000], contentSize: 200, seed: 'bench-sync' });
  console.error(`generated ${EVENT_COUNT} signed events in ${Math.round(performance.now() - started)} ms`);
  const relay = await startTestRelay({ maxLimit: 500, keepAllVersions: true });
  relay.addEvents(events);
  const results: BenchResult[] = [];
  try {
    const dir = mkdtempSync(join(tmpdir(), 'bigbrotr-bench-sync-'));
    try {
      const config = loadConfig({ env: {}, overrides: { 'database.data_dir': join(dir, 'data') } }).config;
      results.push(await passInto('pglite', config, relay.url));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const name = `bigbrotr_bench_sync_${process.pid}`;
    const admin = new pg.Client({ connectionString: POSTGRES_SERVER });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    try {
      const url = new URL(POSTGRES_SERVER);
      url.pathname = `/${name}`;
      const config = loadConfig({ env: {}, overrides: { 'database.url': url.toString() } }).config;
      results.push(await passInto('postgres', config, relay.url));
    } finally {
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
      await admin.end();
    }
  } finally {
    await relay.close();
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
