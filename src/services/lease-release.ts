/**
 * Giving leases back at the end of a round or pass. A failure here (the database unreachable for a
 * moment) must not replace the round's own outcome, and an unreleased lease expires by itself after
 * its time to live, so the error is logged and never thrown.
 */
import type { Queryable } from '../db/database.js';
import { wrapDatabaseError } from '../db/errors.js';
import { releaseLeases } from '../db/leases.js';
import type { Logger } from '../observability/logger.js';

export async function releaseLeasesQuietly(
  db: Queryable,
  lease: { service: string; owner: string; resources?: string[] },
  logger: Logger,
): Promise<void> {
  try {
    await releaseLeases(db, lease);
  } catch (error) {
    logger.warn(
      { err: wrapDatabaseError(error, `releasing ${lease.service} leases`), service: lease.service },
      `could not release ${lease.service} leases; they expire after their time to live`,
    );
  }
}
