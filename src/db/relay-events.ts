/** What the archive holds from one relay, as negentropy needs it: (created_at, id) in a time window. */
import type { NegentropyItem } from '../nostr/negentropy.js';
import type { Queryable } from './database.js';

/** Events seen on `relayId` with created_at in [since, until], at most `limit` (the caller splits larger windows). */
export async function relayEventItems(
  db: Queryable,
  relayId: number,
  since: number,
  until: number,
  limit: number,
): Promise<NegentropyItem[]> {
  const { rows } = await db.query<{ created_at: number; id: string }>(
    `SELECT e.created_at, encode(e.id, 'hex') AS id
     FROM event_relay er JOIN event e ON e.id = er.event_id
     WHERE er.relay_id = $1 AND e.created_at BETWEEN $2 AND $3
     LIMIT $4`,
    [relayId, since, until, limit],
  );
  return rows.map((row) => ({ createdAt: Number(row.created_at), id: row.id }));
}
