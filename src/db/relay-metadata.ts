/** Reads of the relay metadata the monitor stores. */
import type { Queryable } from './database.js';

/** `limitation.max_limit` from the relay's latest NIP-11 document, when it is a positive integer. */
export async function knownMaxLimit(db: Queryable, relayId: number): Promise<number | undefined> {
  const { rows } = await db.query<{ max_limit: unknown }>(
    `SELECT data -> 'limitation' -> 'max_limit' AS max_limit FROM relay_metadata_latest
     WHERE relay_id = $1 AND check_type = 'nip11' AND ok AND metadata_type = 'nip11'`,
    [relayId],
  );
  const value = rows[0]?.max_limit;
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined;
}
