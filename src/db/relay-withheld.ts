/**
 * Ids a relay lists in NIP-77 reconciliation but does not serve us by id (`relay_withheld`), so that
 * they are not asked for on every pass, nor read as a page cap.
 */
import type { Queryable } from './database.js';

/** The withheld ids of a relay that are not due for another try. */
export async function withheldIds(db: Queryable, relayId: number, recheckSeconds: number): Promise<Set<string>> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT encode(event_id, 'hex') AS id FROM relay_withheld
     WHERE relay_id = $1 AND last_asked_at > now() - make_interval(secs => $2)`,
    [relayId, recheckSeconds],
  );
  return new Set(rows.map((row) => row.id));
}

export async function recordWithheld(db: Queryable, relayId: number, ids: string[], reason: string): Promise<void> {
  if (ids.length === 0) return;
  await db.query(
    `INSERT INTO relay_withheld (relay_id, event_id, reason)
     SELECT $1, decode(id, 'hex'), $3 FROM unnest($2::text[]) AS input(id)
     ON CONFLICT (relay_id, event_id) DO UPDATE SET last_asked_at = now(), reason = EXCLUDED.reason`,
    [relayId, ids, reason.slice(0, 300)],
  );
}

/** Ids served after all (e.g. after AUTH) are no longer withheld. */
export async function clearWithheld(db: Queryable, relayId: number, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query(
    `DELETE FROM relay_withheld WHERE relay_id = $1 AND event_id = ANY(SELECT decode(id, 'hex') FROM unnest($2::text[]) AS input(id))`,
    [relayId, ids],
  );
}

export async function withheldCount(db: Queryable, relayId: number): Promise<number> {
  const { rows } = await db.query<{ count: number | string }>('SELECT count(*) AS count FROM relay_withheld WHERE relay_id = $1', [
    relayId,
  ]);
  return Number(rows[0]?.count ?? 0);
}
