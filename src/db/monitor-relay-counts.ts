/** The monitor's up/down gauge: relays (not retired) counted by the outcome of their latest open check. */
import type { Queryable } from './database.js';

export async function relaysByLatestOpenCheck(db: Queryable): Promise<{ up: number; down: number }> {
  const { rows } = await db.query<{ ok: boolean; relays: string }>(
    `SELECT l.ok, count(*) AS relays FROM relay_metadata_latest l JOIN relay r ON r.id = l.relay_id
     WHERE l.check_type = 'open' AND r.state <> 'retired' GROUP BY l.ok`,
  );
  return {
    up: Number(rows.find((row) => row.ok)?.relays ?? 0),
    down: Number(rows.find((row) => !row.ok)?.relays ?? 0),
  };
}
