/**
 * Network statistics for the API and the dashboard: archive size, events per day and per kind,
 * relays by software, country, network and state, latency distribution, uptime over time, sync lag.
 * Archive counts come from the counters of migration 0014 (src/db/archive-counters.ts), not scans.
 */
import { archiveTotals, counterBreakdown, dayLabel } from './archive-counters.js';
import type { Queryable } from './database.js';

export async function archiveSummary(db: Queryable) {
  const totals = await archiveTotals(db);
  // Relays are a small table; the time span is one probe per partition of the created_at and archived_at indexes.
  const { rows } = await db.query<Record<string, string | null>>(
    `SELECT (SELECT count(*) FROM relay) AS relays,
            (SELECT count(*) FROM relay WHERE state = 'active') AS active_relays,
            (SELECT min(created_at) FROM event) AS oldest_created_at,
            (SELECT max(created_at) FROM event) AS newest_created_at,
            (SELECT max(archived_at) FROM event) AS last_archived_at`,
  );
  const row = rows[0] ?? {};
  const number = (value: string | null | undefined) => (value == null ? null : Number(value));
  const health = await db.query<{ ok: boolean; relays: string }>(
    `SELECT ok, count(*) AS relays FROM relay_metadata_latest WHERE check_type = 'open' GROUP BY ok`,
  );
  return {
    unique_events: totals.events,
    event_relay_pairs: totals.event_relay,
    relays: number(row.relays) ?? 0,
    active_relays: number(row.active_relays) ?? 0,
    relays_up: Number(health.rows.find((entry) => entry.ok)?.relays ?? 0),
    relays_down: Number(health.rows.find((entry) => !entry.ok)?.relays ?? 0),
    checks: totals.relay_check,
    oldest_created_at: number(row.oldest_created_at),
    newest_created_at: number(row.newest_created_at),
    last_archived_at: row.last_archived_at ?? null,
  };
}

/**
 * Events per UTC day over the last `days` days, by created_at or by when bigbrotr archived them
 * (days without events left out). By created_at, tomorrow is included: clocks run ahead.
 */
export async function eventsPerDay(db: Queryable, days: number, basis: 'created' | 'archived'): Promise<{ day: string; events: number }[]> {
  const { rows } = await db.query<{ today: string }>('SELECT floor(extract(epoch FROM now()) / 86400)::bigint AS today');
  const today = Number(rows[0]?.today);
  const counts = await counterBreakdown(db, basis === 'created' ? 'events_by_created_day' : 'events_by_archived_day', {
    from: today - days + 1,
    to: basis === 'created' ? today + 1 : today,
  });
  return counts.map((count) => ({ day: dayLabel(count.key), events: count.value }));
}

export async function topKinds(db: Queryable, limit: number): Promise<{ kind: number; events: number }[]> {
  const counts = await counterBreakdown(db, 'events_by_kind', { top: limit });
  return counts.map((count) => ({ kind: count.key, events: count.value }));
}

/** Relays (not retired) grouped by a property of their latest documents, biggest groups first. */
export async function relayBreakdown(db: Queryable, limit: number) {
  const group = async (expression: string, join: string) => {
    const { rows } = await db.query<{ value: string | null; relays: string }>(
      `SELECT ${expression} AS value, count(*) AS relays FROM relay r ${join}
       WHERE r.state <> 'retired' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT $1`,
      [limit],
    );
    return rows.map((row) => ({ value: row.value ?? 'unknown', relays: Number(row.relays) }));
  };
  const latestDoc = (type: string) =>
    `LEFT JOIN LATERAL (SELECT m.data FROM relay_check c JOIN metadata m ON m.id = c.metadata_id
      WHERE c.relay_id = r.id AND c.check_type = '${type}' AND c.ok ORDER BY c.checked_at DESC LIMIT 1) d ON true`;
  // One after the other: `db` may be a single transaction connection.
  // `git+https://github.com/hoytech/strfry.git`, `https://github.com/hoytech/strfry` → `hoytech/strfry`
  const software = await group(
    `regexp_replace(regexp_replace(lower(d.data ->> 'software'), '^(git\\+)?(https?://)?(www\\.)?(github\\.com/|gitlab\\.com/)?', ''),
      '(\\.git)?/*$', '')`,
    latestDoc('nip11'),
  );
  const countries = await group(`d.data ->> 'country'`, latestDoc('geo'));
  const networks = await group('r.network', '');
  const states = await group('r.state', '');
  return { software, countries, networks, states };
}

/** Latest open round trips of relays that are up, in buckets (ms upper bounds). */
export async function latencyDistribution(db: Queryable): Promise<{ le_ms: number | null; relays: number }[]> {
  const bounds = [50, 100, 200, 500, 1000, 2000, 5000];
  const { rows } = await db.query<{ bucket: number; relays: string }>(
    // width_bucket counts a value equal to a bound in the next bucket; rtt_ms - 1 makes each bucket "≤ bound" (integer ms).
    `SELECT width_bucket(rtt_ms - 1, $1::int[]) AS bucket, count(*) AS relays FROM relay_metadata_latest
     WHERE check_type = 'open' AND ok AND rtt_ms IS NOT NULL GROUP BY 1 ORDER BY 1`,
    [bounds],
  );
  return [...bounds, null].map((bound, index) => ({
    le_ms: bound,
    relays: Number(rows.find((row) => Number(row.bucket) === index)?.relays ?? 0),
  }));
}

/** Relays up and down per hour over the last `hours` hours, from open checks. */
export async function uptimeHistory(db: Queryable, hours: number): Promise<{ hour: string; up: number; down: number }[]> {
  const { rows } = await db.query<{ hour: string; up: string; down: string }>(
    `SELECT to_char(date_trunc('hour', checked_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD"T"HH24:00:00"Z"') AS hour,
            count(DISTINCT relay_id) FILTER (WHERE ok) AS up,
            count(DISTINCT relay_id) FILTER (WHERE NOT ok) AS down
     FROM relay_check
     WHERE check_type = 'open' AND checked_at > now() - make_interval(hours => $1)
     GROUP BY 1 ORDER BY 1`,
    [hours],
  );
  return rows.map((row) => ({ hour: row.hour, up: Number(row.up), down: Number(row.down) }));
}

/** Sync progress per relay: how far it is archived and how far behind now. */
export async function syncProgress(db: Queryable, limit: number) {
  const { rows } = await db.query<{
    url: string;
    completed_until: string | null;
    updated_at: string;
    last_full_pass_at: string | null;
    benched_until: string | null;
    last_error: string | null;
  }>(
    `SELECT r.url, s.completed_until, s.updated_at, s.last_full_pass_at, h.benched_until, h.last_error
     FROM sync_cursor s JOIN relay r ON r.id = s.relay_id LEFT JOIN relay_health h ON h.relay_id = r.id
     WHERE s.scope = 'all'
     ORDER BY s.completed_until NULLS FIRST, r.url
     LIMIT $1`,
    [limit],
  );
  const now = Math.floor(Date.now() / 1000);
  return rows.map((row) => {
    const completed = row.completed_until == null ? null : Number(row.completed_until);
    return { ...row, completed_until: completed, lag_seconds: completed === null ? null : Math.max(0, now - completed) };
  });
}
