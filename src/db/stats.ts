/** Archive-wide counts for `bigbrotr stats` and the API. */
import type { Queryable } from './database.js';

export interface ArchiveStats {
  relays: { total: number; byNetwork: Record<string, number>; byState: Record<string, number> };
  events: number;
  eventRelayPairs: number;
  metadata: number;
  relayChecks: number;
}

export async function collectStats(db: Queryable): Promise<ArchiveStats> {
  const relays = await db.query<{ network: string; state: string; count: number }>(
    'SELECT network, state, count(*) AS count FROM relay GROUP BY network, state',
  );
  const byNetwork: Record<string, number> = { clearnet: 0, tor: 0, i2p: 0, loki: 0 };
  const byState: Record<string, number> = { candidate: 0, active: 0, retired: 0 };
  let total = 0;
  for (const row of relays.rows) {
    const count = Number(row.count);
    total += count;
    byNetwork[row.network] = (byNetwork[row.network] ?? 0) + count;
    byState[row.state] = (byState[row.state] ?? 0) + count;
  }
  const { rows } = await db.query<{ events: number; pairs: number; metadata: number; checks: number }>(
    `SELECT (SELECT count(*) FROM event) AS events,
            (SELECT count(*) FROM event_relay) AS pairs,
            (SELECT count(*) FROM metadata) AS metadata,
            (SELECT count(*) FROM relay_check) AS checks`,
  );
  const counts = rows[0];
  return {
    relays: { total, byNetwork, byState },
    events: Number(counts?.events ?? 0),
    eventRelayPairs: Number(counts?.pairs ?? 0),
    metadata: Number(counts?.metadata ?? 0),
    relayChecks: Number(counts?.checks ?? 0),
  };
}
