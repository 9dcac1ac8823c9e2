/** Who the archive holds events from, for requests that must name authors (a crowded second split by author). */
import type { Queryable } from './database.js';

/** Distinct authors (hex) of archived events of `kind` created in `second`, at most `limit` (event_kind_created_idx). */
export async function authorsOfSecond(db: Queryable, second: number, kind: number, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ pubkey: string }>(
    `SELECT encode(pubkey, 'hex') AS pubkey FROM (SELECT DISTINCT pubkey FROM event WHERE kind = $1 AND created_at = $2 LIMIT $3) AS authors`,
    [kind, second, limit],
  );
  return rows.map((row) => row.pubkey);
}
