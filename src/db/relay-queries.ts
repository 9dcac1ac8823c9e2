/**
 * Reads of relays for the API and the dashboard: the list with each relay's latest health, software
 * and country; one relay's latest checks, uptime, sync position and check history.
 */
import type { Queryable } from './database.js';
import { relayClaims, VERIFIABLE_NIPS, type NipClaim } from './nip-claims.js';

export interface RelayListFilter {
  network?: string;
  state?: string;
  status?: 'up' | 'down' | 'unchecked';
  nip?: number;
  /** Only relays seen doing this NIP (9, 40, 42, 45, 50, 70 or 77: src/db/nip-claims.ts). */
  verifiedNip?: number;
  afterId?: number;
  limit: number;
}

/** A relay row's own columns, as every relay query returns them. */
export interface RelayIdentity {
  id: number;
  url: string;
  network: string;
  state: string;
  discovered_from: string;
  discovered_at: string;
}

export interface RelaySummary extends RelayIdentity {
  last_checked_at: string | null;
  up: boolean | null;
  rtt_open_ms: number | null;
  name: string | null;
  software: string | null;
  version: string | null;
  country: string | null;
}

const LATEST = (type: string, columns: string, alias: string) =>
  `LEFT JOIN LATERAL (SELECT ${columns} FROM relay_check c LEFT JOIN metadata m ON m.id = c.metadata_id
     WHERE c.relay_id = r.id AND c.check_type = '${type}' ORDER BY c.checked_at DESC LIMIT 1) ${alias} ON true`;

export async function listRelaySummaries(db: Queryable, filter: RelayListFilter): Promise<RelaySummary[]> {
  const { rows } = await db.query<RelaySummary>(
    `SELECT r.id, r.url, r.network, r.state, r.discovered_from, r.discovered_at,
            o.checked_at AS last_checked_at, o.ok AS up, o.rtt_ms AS rtt_open_ms,
            n.data ->> 'name' AS name, n.data ->> 'software' AS software, n.data ->> 'version' AS version,
            g.data ->> 'country' AS country
     FROM relay r
     ${LATEST('open', 'c.checked_at, c.ok, c.rtt_ms', 'o')}
     ${LATEST('nip11', 'm.data', 'n')}
     ${LATEST('geo', 'm.data', 'g')}
     WHERE ($1::text IS NULL OR r.network = $1)
       AND ($2::text IS NULL OR r.state = $2)
       AND ($3::text IS NULL OR ($3 = 'up' AND o.ok) OR ($3 = 'down' AND NOT o.ok) OR ($3 = 'unchecked' AND o.ok IS NULL))
       AND ($4::int IS NULL OR n.data -> 'supported_nips' @> to_jsonb($4::int))
       AND ${filter.verifiedNip !== undefined && VERIFIABLE_NIPS[filter.verifiedNip] ? VERIFIABLE_NIPS[filter.verifiedNip] : 'true'}
       AND r.id > $5
     ORDER BY r.id
     LIMIT $6`,
    [filter.network ?? null, filter.state ?? null, filter.status ?? null, filter.nip ?? null, filter.afterId ?? 0, filter.limit],
  );
  return rows;
}

export interface RelayDetail {
  relay: RelayIdentity & { mention_count: number; state_changed_at: string };
  checks: Record<string, { checked_at: string; ok: boolean; rtt_ms: number | null; reason: string | null; data: unknown; detail: unknown }>;
  uptime: Record<string, unknown> | null;
  sync: {
    completed_until: number | null;
    last_full_pass_at: string | null;
    updated_at: string;
    lag_seconds: number | null;
    last_pass_at: string | null;
    last_pass_complete: boolean | null;
    last_pass_reason: string | null;
    last_pass_requests: number | null;
    /** Windows of the relay's history not proven archived, retried by later passes. */
    owed_windows: number;
    owed_seconds: number;
    /** Ids the relay lists (NIP-77) but does not serve us. */
    withheld_ids: number;
  } | null;
  /** The filter limits learned from the relay (refusals, NIP-11) and whether its COUNT agrees with REQ. */
  limits: Record<string, unknown> | null;
  health: { consecutive_failures: number; benched_until: string | null; last_error: string | null; last_success_at: string | null } | null;
  /** What the relay claims (NIP-11) against what was seen it do: verified, refuted or untested, with the evidence. */
  claims: NipClaim[];
}

export async function relayDetail(db: Queryable, url: string): Promise<RelayDetail | undefined> {
  const { rows } = await db.query<RelayDetail['relay']>(
    'SELECT id, url, network, state, discovered_from, discovered_at, mention_count, state_changed_at FROM relay WHERE url = $1',
    [url],
  );
  const relay = rows[0];
  if (!relay) return undefined;
  // One after the other: `db` may be a single transaction connection, which runs one query at a time.
  const checks = await latestChecks(db, relay.id);
  const uptime = await relayUptime(db, relay.id);
  const sync = await syncState(db, relay.id);
  const limits = await db.query<Record<string, unknown>>(
    `SELECT max_limit, max_kinds, max_authors, max_ids, max_filters, requires_kinds, largest_page, count_trust, count_checked_at,
            learned, learned_at
     FROM relay_limits WHERE relay_id = $1`,
    [relay.id],
  );
  const health = await db.query<NonNullable<RelayDetail['health']>>(
    'SELECT consecutive_failures, benched_until, last_error, last_success_at FROM relay_health WHERE relay_id = $1',
    [relay.id],
  );
  const claims = await relayClaims(db, relay.id);
  return {
    relay: { ...relay, mention_count: Number(relay.mention_count) },
    checks,
    uptime,
    sync,
    limits: limits.rows[0] ?? null,
    health: health.rows[0] ?? null,
    claims,
  };
}

async function latestChecks(db: Queryable, relayId: number): Promise<RelayDetail['checks']> {
  const { rows } = await db.query<RelayDetail['checks'][string] & { check_type: string }>(
    'SELECT check_type, checked_at, ok, rtt_ms, reason, data, detail FROM relay_metadata_latest WHERE relay_id = $1',
    [relayId],
  );
  return Object.fromEntries(rows.map(({ check_type, ...check }) => [check_type, check]));
}

/** The relay's sync cursor with what it still owes and withholds; the lag is counted from now. */
async function syncState(db: Queryable, relayId: number): Promise<RelayDetail['sync']> {
  const { rows } = await db.query<{
    completed_until: string | null;
    last_full_pass_at: string | null;
    updated_at: string;
    last_pass_at: string | null;
    last_pass_complete: boolean | null;
    last_pass_reason: string | null;
    last_pass_requests: number | null;
    owed_windows: string;
    owed_seconds: string | null;
    withheld_ids: string;
  }>(
    `SELECT completed_until, last_full_pass_at, updated_at, last_pass_at, last_pass_complete, last_pass_reason, last_pass_requests,
              (SELECT count(*) FROM sync_gap g WHERE g.relay_id = c.relay_id) AS owed_windows,
              (SELECT sum(g.until - g.since + 1) FROM sync_gap g WHERE g.relay_id = c.relay_id) AS owed_seconds,
              (SELECT count(*) FROM relay_withheld w WHERE w.relay_id = c.relay_id) AS withheld_ids
       FROM sync_cursor c WHERE relay_id = $1 AND scope = 'all'`,
    [relayId],
  );
  const cursor = rows[0];
  if (!cursor) return null;
  const completedUntil = cursor.completed_until == null ? null : Number(cursor.completed_until);
  return {
    completed_until: completedUntil,
    last_full_pass_at: cursor.last_full_pass_at,
    updated_at: cursor.updated_at,
    lag_seconds: completedUntil === null ? null : Math.max(0, Math.floor(Date.now() / 1000) - completedUntil),
    last_pass_at: cursor.last_pass_at,
    last_pass_complete: cursor.last_pass_complete,
    last_pass_reason: cursor.last_pass_reason,
    last_pass_requests: cursor.last_pass_requests,
    owed_windows: Number(cursor.owed_windows),
    owed_seconds: Number(cursor.owed_seconds ?? 0),
    withheld_ids: Number(cursor.withheld_ids),
  };
}

export interface CheckHistoryRow {
  id: number;
  check_type: string;
  checked_at: string;
  ok: boolean;
  rtt_ms: number | null;
  reason: string | null;
}

/** A relay's checks, newest first, optionally of one type and since a time, after a check id (keyset). */
export async function checkHistory(
  db: Queryable,
  options: { url: string; type?: string; since?: number; beforeId?: number; limit: number },
): Promise<CheckHistoryRow[]> {
  const { rows } = await db.query<CheckHistoryRow>(
    `SELECT c.id, c.check_type, c.checked_at, c.ok, c.rtt_ms, c.reason
     FROM relay_check c JOIN relay r ON r.id = c.relay_id
     WHERE r.url = $1 AND ($2::text IS NULL OR c.check_type = $2)
       AND ($3::bigint IS NULL OR c.checked_at >= to_timestamp($3))
       AND ($4::bigint IS NULL OR c.id < $4)
     ORDER BY c.id DESC
     LIMIT $5`,
    [options.url, options.type ?? null, options.since ?? null, options.beforeId ?? null, options.limit],
  );
  return rows.map((row) => ({ ...row, id: Number(row.id) }));
}

/** Where an event was seen, and when. */

/** A relay's availability summary (the `relay_uptime` view), or null before its first open check. */
export async function relayUptime(db: Queryable, relayId: number): Promise<Record<string, unknown> | null> {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT last_checked_at, last_ok, availability_24h, availability_7d, availability_30d, checks_30d,
            median_rtt_open_7d_ms, median_rtt_read_7d_ms, median_rtt_write_7d_ms
     FROM relay_uptime WHERE relay_id = $1`,
    [relayId],
  );
  return rows[0] ?? null;
}

export interface RelayHistory {
  relay: { url: string; network: string; state: string; discovered_at: string };
  uptime: Record<string, unknown> | null;
  /** Open checks per UTC day, newest first. */
  days: { day: string; checks: number; ok: number; median_open_rtt_ms: number | null }[];
  /** Each distinct NIP-11 document the relay served, with when it was first and last seen, newest first. */
  nip11: { document_id: string; first_seen_at: string; last_seen_at: string; checks: number; document: unknown }[];
}

/** A relay's uptime per day and its NIP-11 documents since `since` (unix seconds), each list at most `limit` long. */
export async function relayHistory(
  db: Queryable,
  options: { url: string; since: number; limit: number },
): Promise<RelayHistory | undefined> {
  const { rows } = await db.query<RelayHistory['relay'] & { id: number }>(
    'SELECT id, url, network, state, discovered_at FROM relay WHERE url = $1',
    [options.url],
  );
  const found = rows[0];
  if (!found) return undefined;
  const { id, ...relay } = found;
  const uptime = await relayUptime(db, id);
  const days = await db.query<{ day: string; checks: number; ok: number; median_open_rtt_ms: number | null }>(
    `SELECT to_char(date_trunc('day', checked_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day, count(*)::int AS checks,
            count(*) FILTER (WHERE ok)::int AS ok,
            (percentile_cont(0.5) WITHIN GROUP (ORDER BY rtt_ms) FILTER (WHERE ok))::int AS median_open_rtt_ms
     FROM relay_check WHERE relay_id = $1 AND check_type = 'open' AND checked_at >= to_timestamp($2)
     GROUP BY 1 ORDER BY 1 DESC LIMIT $3`,
    [id, options.since, options.limit],
  );
  const documents = await db.query<RelayHistory['nip11'][number]>(
    `SELECT encode(seen.metadata_id, 'hex') AS document_id, seen.first_seen_at, seen.last_seen_at, seen.checks, m.data AS document
     FROM (SELECT metadata_id, min(checked_at) AS first_seen_at, max(checked_at) AS last_seen_at, count(*)::int AS checks
           FROM relay_check WHERE relay_id = $1 AND check_type = 'nip11' AND metadata_id IS NOT NULL AND checked_at >= to_timestamp($2)
           GROUP BY metadata_id) AS seen
     JOIN metadata m ON m.id = seen.metadata_id
     ORDER BY seen.last_seen_at DESC LIMIT $3`,
    [id, options.since, options.limit],
  );
  return { relay, uptime, days: days.rows, nip11: documents.rows };
}
