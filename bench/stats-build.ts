/**
 * The archive of the statistics benchmark (bench/stats.ts), written directly in SQL: `events` events
 * (no verification, no tags, short contents: only the columns the statistics read matter) created
 * over the last two years, archived over the last 60 days, 13 common kinds plus 300 rare ones, each
 * seen on one of 8 relays and half of them on a second one (about 1.5 pairs per event). Cheap: about
 * 30,000 events/s on 2 cores. Deterministic in the event number n except archived_at, relative to now.
 */
import { performance } from 'node:perf_hooks';
import type { Database } from '../src/db/database.js';

export const STATS_RELAYS = 8;
const BATCH = 250_000;

const KIND_CASE = `CASE
  WHEN n % 100 = 99 THEN 1000 + (n / 100) % 300
  WHEN n % 100 < 55 THEN 1 WHEN n % 100 < 75 THEN 7 WHEN n % 100 < 80 THEN 6 WHEN n % 100 < 84 THEN 9735
  WHEN n % 100 < 87 THEN 1111 WHEN n % 100 < 89 THEN 4 WHEN n % 100 < 91 THEN 0 WHEN n % 100 < 93 THEN 3
  WHEN n % 100 < 95 THEN 16 WHEN n % 100 < 96 THEN 10002 WHEN n % 100 < 97 THEN 5 WHEN n % 100 < 98 THEN 30023
  ELSE 30078 END`;

const BATCH_SQL = `
WITH ins AS (
  INSERT INTO event (id, pubkey, created_at, kind, tags, content, sig, archived_at)
  SELECT sha256(int8send(n)), sha256(int8send(-1 - n % 20000)),
         $3::bigint - 730 * 86400 + (n * 730 * 86400) / $4::bigint,
         ${KIND_CASE}, '[]'::jsonb, 'note ' || n,
         sha256(int8send(n) || '\\x01'::bytea) || sha256(int8send(n) || '\\x02'::bytea),
         now() - make_interval(secs => ((n * 7919) % (60 * 86400))::float8)
  FROM generate_series($1::bigint, $2::bigint) AS n
  RETURNING id
)
INSERT INTO event_relay (event_id, relay_id, first_seen_at)
SELECT ins.id, r.id, now() FROM ins JOIN relay r
  ON r.id % ${STATS_RELAYS} = get_byte(ins.id, 0) % ${STATS_RELAYS}
  OR (get_byte(ins.id, 2) < 128 AND r.id % ${STATS_RELAYS} = (get_byte(ins.id, 0) + 1 + get_byte(ins.id, 1) % ${STATS_RELAYS - 1}) % ${STATS_RELAYS})`;

/** Builds the archive (two batches at a time on PostgreSQL), then VACUUM ANALYZE. Returns seconds. */
export async function buildStatsArchive(
  db: Database,
  events: number,
  log: (message: string) => void,
): Promise<{ buildSeconds: number; analyzeSeconds: number }> {
  await db.query(
    `INSERT INTO relay (url, network, state, discovered_from) SELECT 'wss://relay-' || i || '.stats.example/', 'clearnet', 'active', 'seed' FROM generate_series(0, ${STATS_RELAYS - 1}) AS i`,
  );
  const nowSeconds = Math.floor(Date.now() / 1000);
  const started = performance.now();
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < events) {
      const lo = next;
      const hi = Math.min(events, lo + BATCH) - 1;
      next = hi + 1;
      await db.query(BATCH_SQL, [lo, hi, nowSeconds, events]);
      done += hi - lo + 1;
      if (done % 1_000_000 < BATCH || done === events) log(`${done} events after ${((performance.now() - started) / 1000).toFixed(0)} s`);
    }
  };
  await Promise.all(Array.from({ length: db.kind === 'postgres' ? 2 : 1 }, worker));
  const buildSeconds = (performance.now() - started) / 1000;
  const analyzeStarted = performance.now();
  await db.exec('VACUUM (ANALYZE) event');
  await db.exec('VACUUM (ANALYZE) event_relay');
  return { buildSeconds, analyzeSeconds: (performance.now() - analyzeStarted) / 1000 };
}
