/** Which relays the synchronizer should visit next. */
import type { Queryable } from './database.js';

export interface DueRelay {
  id: number;
  url: string;
}

/**
 * Active relays whose last pass ended more than `intervalSeconds` ago (never synced first), oldest
 * first, skipping relays the circuit breaker has benched.
 */
export async function dueRelays(db: Queryable, options: { intervalSeconds: number; limit: number }): Promise<DueRelay[]> {
  const { rows } = await db.query<DueRelay>(
    `SELECT r.id, r.url FROM relay r
     LEFT JOIN sync_cursor c ON c.relay_id = r.id AND c.scope = 'all'
     LEFT JOIN relay_health h ON h.relay_id = r.id
     WHERE r.state = 'active'
       AND (h.benched_until IS NULL OR h.benched_until <= now())
       AND (c.updated_at IS NULL OR c.pass_until IS NOT NULL OR c.updated_at <= now() - make_interval(secs => $1::double precision))
     ORDER BY c.updated_at NULLS FIRST, r.id
     LIMIT $2`,
    [options.intervalSeconds, options.limit],
  );
  return rows;
}
