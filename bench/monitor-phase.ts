/**
 * One phase of the monitor benchmark, in its own process so that its peak RSS (getrusage maxrss) is
 * the monitor's: a fresh archive (PGlite in a directory, or a scratch PostgreSQL database), the
 * relays inserted as active, then one `monitorOnce` pass with the default configuration (10 s
 * timeouts, concurrency 50) over all of them. Prints one JSON line.
 */
import { readFileSync } from 'node:fs';
import { loadConfig } from '../src/config/loader.js';
import type { Config } from '../src/config/schema.js';
import { migrate } from '../src/db/migrate.js';
import { openDatabase } from '../src/db/open.js';
import { silentLogger } from '../src/observability/logger.js';
import { monitorOnce } from '../src/services/monitor/monitor.js';
import { withScratchPostgres } from './scratch-postgres.js';

const peakRssMiB = () => Math.round(process.resourceUsage().maxRSS / 1024);

async function monitorPhase(config: Config, urls: Record<string, string[]>) {
  const db = await openDatabase(config.database);
  try {
    await migrate(db, { lockTimeoutMs: 60_000, logger: silentLogger() });
    const all = Object.values(urls).flat();
    await db.query(
      `INSERT INTO relay (url, network, state, discovered_from) SELECT url, 'clearnet', 'active', 'seed' FROM unnest($1::text[]) AS u(url)`,
      [all],
    );
    const rssBeforeMiB = Math.round(process.memoryUsage().rss / 2 ** 20);
    const started = performance.now();
    const summary = await monitorOnce({ db, config, logger: silentLogger() });
    const seconds = (performance.now() - started) / 1000;
    const { rows } = await db.query<{ check_type: string; ok: boolean; n: string }>(
      'SELECT check_type, ok, count(*) AS n FROM relay_check GROUP BY check_type, ok ORDER BY check_type, ok',
    );
    const upByKind = Object.fromEntries(
      Object.entries(urls).map(([kind, list]) => [kind, summary.relays.filter((relay) => list.includes(relay.url) && relay.up).length]),
    );
    return {
      relays: all.length,
      checked: summary.checked,
      up: summary.up,
      down: summary.down,
      upByKind,
      seconds: Number(seconds.toFixed(2)),
      relaysPerMinute: Math.round((summary.checked / seconds) * 60),
      checks: Object.fromEntries(rows.map((row) => [`${row.check_type}:${row.ok ? 'ok' : 'failed'}`, Number(row.n)])),
      rssBeforeMiB,
      peakRssMiB: peakRssMiB(),
    };
  } finally {
    await db.close();
  }
}

async function main() {
  const [kind, target, urlsFile] = process.argv.slice(2);
  if (!kind || !target || !urlsFile) throw new Error('usage: monitor-phase.ts pglite DATA_DIR URLS_JSON | postgres - URLS_JSON');
  const urls = JSON.parse(readFileSync(urlsFile, 'utf8')) as Record<string, string[]>;
  if (kind === 'pglite') return monitorPhase(loadConfig({ env: {}, overrides: { 'database.data_dir': target } }).config, urls);
  return withScratchPostgres('bigbrotr_bench_monitor', (url) =>
    monitorPhase(loadConfig({ env: {}, overrides: { 'database.url': url } }).config, urls),
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
