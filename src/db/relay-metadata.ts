/** Reads of the relay metadata the monitor stores. */
import type { Queryable } from './database.js';

export interface KnownLimitation {
  /** `limitation.max_limit`: the relay's cap on events per REQ. */
  maxLimit?: number;
  /** `limitation.max_message_length`: the largest message the relay accepts, in bytes. */
  maxMessageLength?: number;
  /** `limitation.max_filters` (not in NIP-11, but nostream and others publish it): filters per REQ. */
  maxFilters?: number;
}

const positiveInteger = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined;

/** The NIP-11 `limitation` hints of the relay's latest document, when they are positive integers. */
export async function knownLimitation(db: Queryable, relayId: number): Promise<KnownLimitation> {
  const { rows } = await db.query<{ max_limit: unknown; max_message_length: unknown; max_filters: unknown }>(
    `SELECT data -> 'limitation' -> 'max_limit' AS max_limit, data -> 'limitation' -> 'max_message_length' AS max_message_length,
            data -> 'limitation' -> 'max_filters' AS max_filters
     FROM relay_metadata_latest
     WHERE relay_id = $1 AND check_type = 'nip11' AND ok AND metadata_type = 'nip11'`,
    [relayId],
  );
  const maxLimit = positiveInteger(rows[0]?.max_limit);
  const maxMessageLength = positiveInteger(rows[0]?.max_message_length);
  const maxFilters = positiveInteger(rows[0]?.max_filters);
  return { ...(maxLimit ? { maxLimit } : {}), ...(maxMessageLength ? { maxMessageLength } : {}), ...(maxFilters ? { maxFilters } : {}) };
}

/** `limitation.max_limit` from the relay's latest NIP-11 document, when it is a positive integer. */
export async function knownMaxLimit(db: Queryable, relayId: number): Promise<number | undefined> {
  return (await knownLimitation(db, relayId)).maxLimit;
}
