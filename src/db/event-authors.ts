/** What the archive holds of one second, for requests that must name authors or ids (a crowded second split by author, then by id). */
import type { Queryable } from './database.js';

/** Distinct authors (hex) of archived events of `kind` created in `second`, at most `limit` (event_kind_created_idx). */
export async function authorsOfSecond(db: Queryable, second: number, kind: number, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ pubkey: string }>(
    `SELECT encode(pubkey, 'hex') AS pubkey
     FROM (SELECT DISTINCT pubkey FROM event WHERE kind = $1 AND created_at = $2 LIMIT $3) AS authors`,
    [kind, second, limit],
  );
  return rows.map((row) => row.pubkey);
}

/** Ids (hex) of archived events of `kind` by `authors` created in `second`, at most `limit`. */
export async function idsOfAuthorsInSecond(
  db: Queryable,
  second: number,
  kind: number,
  authors: string[],
  limit: number,
): Promise<string[]> {
  if (authors.length === 0) return [];
  const { rows } = await db.query<{ id: string }>(
    `SELECT encode(id, 'hex') AS id FROM event
     WHERE kind = $1 AND created_at = $2 AND pubkey = ANY(ARRAY(SELECT decode(x, 'hex') FROM unnest($3::text[]) AS x))
     LIMIT $4`,
    [kind, second, authors, limit],
  );
  return rows.map((row) => row.id);
}
