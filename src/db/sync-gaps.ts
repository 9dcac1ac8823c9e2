/**
 * Owed windows (`sync_gap`): parts of a relay's history not proven archived. A pass turns its own
 * window into a row first and shrinks it as it commits, so whatever stops it leaves exactly the
 * remainder here; scopes it cannot prove become rows of their own, retried with backoff. The
 * invariant: everything of the relay in [sync.since, completed_until] is archived except these rows.
 */
import type { Queryable } from './database.js';

export interface OwedRow {
  id: number;
  since: number;
  until: number;
  reason: string;
  attempts: number;
}

export interface OwedSummary {
  windows: number;
  /** Seconds of history they cover. */
  seconds: number;
  oldestReason?: string;
}

/** Inserts an owed window, due again at `dueAtMs` (on the pass's clock). */
export async function insertOwed(
  db: Queryable,
  relayId: number,
  window: { since: number; until: number; reason: string; attempts: number },
  dueAtMs: number,
): Promise<number> {
  const { rows } = await db.query<{ id: number | string }>(
    `INSERT INTO sync_gap (relay_id, since, until, reason, attempts, next_try_at)
     VALUES ($1, $2, $3, $4, $5, to_timestamp($6::double precision / 1000)) RETURNING id`,
    [relayId, window.since, window.until, window.reason.slice(0, 500), window.attempts, dueAtMs],
  );
  return Number(rows[0]?.id);
}

/**
 * Plans a pass: the new window becomes an owed row, then every due row of the relay that overlaps or
 * touches another is merged into one, in one transaction. Returns the rows to work, newest first.
 */
export async function planOwed(
  db: Queryable,
  relayId: number,
  window: { since: number; until: number } | undefined,
  limit: number,
  nowMs: number,
): Promise<{ rows: OwedRow[]; lastId: number }> {
  if (window) {
    await db.query(
      `INSERT INTO sync_gap (relay_id, since, until, reason, next_try_at)
         VALUES ($1, $2, $3, 'pass in progress', to_timestamp($4::double precision / 1000))`,
      [relayId, window.since, window.until, nowMs],
    );
  }
  const { rows: last } = await db.query<{ id: number | string | null }>('SELECT max(id) AS id FROM sync_gap WHERE relay_id = $1', [
    relayId,
  ]);
  const { rows } = await db.query<{
    id: number | string;
    since: number | string;
    until: number | string;
    reason: string;
    attempts: number;
  }>(
    `SELECT id, since, until, reason, attempts FROM sync_gap
     WHERE relay_id = $1 AND next_try_at <= to_timestamp($2::double precision / 1000)
     ORDER BY until DESC, since DESC`,
    [relayId, nowMs],
  );
  const due = rows.map((row) => ({
    id: Number(row.id),
    since: Number(row.since),
    until: Number(row.until),
    reason: row.reason,
    attempts: row.attempts,
  }));
  const merged: (OwedRow & { absorbed: number[] })[] = [];
  for (const row of due) {
    const last = merged[merged.length - 1];
    if (last && row.until >= last.since - 1) {
      last.since = Math.min(last.since, row.since);
      last.attempts = Math.max(last.attempts, row.attempts);
      last.absorbed.push(row.id);
    } else merged.push({ ...row, absorbed: [] });
  }
  for (const row of merged) {
    if (row.absorbed.length === 0) continue;
    await db.query('DELETE FROM sync_gap WHERE id = ANY($1::bigint[])', [row.absorbed]);
    await db.query('UPDATE sync_gap SET since = $2, attempts = $3 WHERE id = $1', [row.id, row.since, row.attempts]);
  }
  return { rows: merged.slice(0, limit).map(({ absorbed: _absorbed, ...row }) => row), lastId: Number(last[0]?.id ?? 0) };
}

/**
 * After a window was worked to its end: older owed rows lying inside it are settled (what is still
 * unproven in them was owed again by this pass, as newer rows).
 */
export async function settleOwedWithin(
  db: Queryable,
  relayId: number,
  window: { since: number; until: number },
  lastId: number,
): Promise<void> {
  await db.query('DELETE FROM sync_gap WHERE relay_id = $1 AND id <= $2 AND since >= $3 AND until <= $4', [
    relayId,
    lastId,
    window.since,
    window.until,
  ]);
}

/** The row's window now ends at `until` (inclusive: that second may be partly done). */
export async function shrinkOwed(db: Queryable, id: number, until: number): Promise<void> {
  await db.query('UPDATE sync_gap SET until = GREATEST(since, LEAST(until, $2)) WHERE id = $1', [id, until]);
}

export async function deleteOwed(db: Queryable, id: number): Promise<void> {
  await db.query('DELETE FROM sync_gap WHERE id = $1', [id]);
}

export async function owedSummary(db: Queryable, relayId: number): Promise<OwedSummary> {
  const { rows } = await db.query<{ windows: number | string; seconds: number | string | null; oldest_reason: string | null }>(
    `SELECT count(*) AS windows, sum(until - since + 1) AS seconds,
            (SELECT reason FROM sync_gap WHERE relay_id = $1 ORDER BY since LIMIT 1) AS oldest_reason
     FROM sync_gap WHERE relay_id = $1`,
    [relayId],
  );
  const row = rows[0];
  return {
    windows: Number(row?.windows ?? 0),
    seconds: Number(row?.seconds ?? 0),
    ...(row?.oldest_reason ? { oldestReason: row.oldest_reason } : {}),
  };
}
