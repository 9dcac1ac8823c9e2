/**
 * Archive-wide counts kept by migration 0014 (decision 15): statement-level triggers append each
 * change to `archive_counter_delta`, `bigbrotr_fold_archive_counters()` folds those rows into
 * `archive_counter`, and a count is its folded row plus its delta rows. Reading one costs the same
 * at a thousand events or ten million, and is exact in the reading transaction's snapshot.
 */
import type { Queryable } from './database.js';

/** Counts with one value (key 0). */
export type TotalMetric = 'events' | 'event_relay' | 'relay_check' | 'metadata';
/** Counts of events broken down by kind, or by UTC day (days since 1970-01-01) of created_at or archived_at. */
export type BreakdownMetric = 'events_by_kind' | 'events_by_created_day' | 'events_by_archived_day';

export const DAY_SECONDS = 86_400;
const TOTALS: readonly TotalMetric[] = ['events', 'event_relay', 'relay_check', 'metadata'];

/** Folded rows and not yet folded ones of the metrics in $1. */
const COUNTER_ROWS = `SELECT metric, key, value FROM archive_counter WHERE metric = ANY($1::text[])
  UNION ALL SELECT metric, key, value FROM archive_counter_delta WHERE metric = ANY($1::text[])`;

/** Events, event-relay pairs, relay checks and metadata documents in the archive. */
export async function archiveTotals(db: Queryable): Promise<Record<TotalMetric, number>> {
  const { rows } = await db.query<{ metric: TotalMetric; value: string }>(
    `SELECT metric, sum(value) AS value FROM (${COUNTER_ROWS}) AS c GROUP BY metric`,
    [TOTALS],
  );
  const totals: Record<TotalMetric, number> = { events: 0, event_relay: 0, relay_check: 0, metadata: 0 };
  for (const row of rows) totals[row.metric] = Number(row.value);
  return totals;
}

export interface BreakdownOptions {
  /** Smallest key (kind or day number) wanted, inclusive. */
  from?: number;
  /** Largest key wanted, inclusive. */
  to?: number;
  /** Only the `top` largest counts (ties by key), largest first; without it, every key in key order. */
  top?: number;
}

/** Non-zero counts of one breakdown. */
export async function counterBreakdown(
  db: Queryable,
  metric: BreakdownMetric,
  options: BreakdownOptions = {},
): Promise<{ key: number; value: number }[]> {
  const order = options.top === undefined ? 'ORDER BY key' : 'ORDER BY sum(value) DESC, key LIMIT $4';
  const params: unknown[] = [[metric], options.from ?? null, options.to ?? null];
  if (options.top !== undefined) params.push(options.top);
  const { rows } = await db.query<{ key: string; value: string }>(
    `SELECT key, sum(value) AS value FROM (${COUNTER_ROWS}) AS c
     WHERE ($2::bigint IS NULL OR key >= $2) AND ($3::bigint IS NULL OR key <= $3)
     GROUP BY key HAVING sum(value) <> 0 ${order}`,
    params,
  );
  return rows.map((row) => ({ key: Number(row.key), value: Number(row.value) }));
}

/** The UTC day number (days since 1970-01-01) of a unix time in seconds. */
export function dayNumber(unixSeconds: number): number {
  return Math.floor(unixSeconds / DAY_SECONDS);
}

/** `YYYY-MM-DD` of a UTC day number. */
export function dayLabel(day: number): string {
  return new Date(day * DAY_SECONDS * 1000).toISOString().slice(0, 10);
}

/**
 * Folds the delta rows into archive_counter; returns how many were folded, or null when another
 * transaction is folding. Needs a writer's rights (the API's read-only role only reads).
 */
export async function foldArchiveCounters(db: Queryable): Promise<number | null> {
  const { rows } = await db.query<{ folded: string | null }>('SELECT bigbrotr_fold_archive_counters() AS folded');
  const folded = rows[0]?.folded ?? null;
  return folded === null ? null : Number(folded);
}

/**
 * Retention: subtracts the events of a detached expired event partition (`bigbrotr_expired_event_*`).
 * Returns the events subtracted, or null when that was already done or there is no such table.
 */
export async function uncountExpiredEventTable(db: Queryable, table: string): Promise<number | null> {
  const { rows } = await db.query<{ events: string | null }>('SELECT bigbrotr_uncount_expired_event_table($1) AS events', [table]);
  const events = rows[0]?.events ?? null;
  return events === null ? null : Number(events);
}

/** Recomputes every count from the tables (one scan of each; writers wait meanwhile). For repairs. */
export async function recountArchive(db: Queryable): Promise<void> {
  await db.query('SELECT bigbrotr_recount_archive()');
}
