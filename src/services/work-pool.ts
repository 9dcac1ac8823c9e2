/**
 * The plumbing every service shares: a bounded number of workers taking items one at a time, leases
 * taken on a list of due rows (the rows another process holds are left out), and leases given back at
 * the end of a round without letting a failure hide the round's own outcome.
 */
import type { Queryable } from '../db/database.js';
import { wrapDatabaseError } from '../db/errors.js';
import { acquireLeases, releaseLeases } from '../db/leases.js';
import type { Logger } from '../observability/logger.js';

/**
 * Runs `workers` loops at once; each asks `next` for an item and works on it until `next` gives
 * `undefined`. `next` is called by one worker at a time, so it may refill a queue from the database.
 */
export async function runWorkers<T>(
  workers: number,
  next: () => Promise<T | undefined> | T | undefined,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let asking: Promise<T | undefined> = Promise.resolve(undefined);
  const take = (): Promise<T | undefined> => (asking = asking.then(next, next));
  await Promise.all(
    Array.from({ length: Math.max(1, workers) }, async () => {
      for (let item = await take(); item !== undefined; item = await take()) await work(item);
    }),
  );
}

/** `work` on every item of a list, at most `concurrency` at a time. */
export function forEachBounded<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let index = 0;
  return runWorkers(Math.min(concurrency, items.length), () => (index < items.length ? items[index++] : undefined), work);
}

/**
 * Leases up to `limit` of the due rows (by their id) for this owner and returns the rows leased, in
 * the order the database granted them: rows another process holds are left out.
 */
export async function leaseRows<Row extends { id: number | string }>(
  db: Queryable,
  lease: { service: string; owner: string; rows: readonly Row[]; limit: number; ttlMs: number },
): Promise<Row[]> {
  const byId = new Map(lease.rows.map((row) => [String(row.id), row]));
  const leased = await acquireLeases(db, {
    service: lease.service,
    owner: lease.owner,
    candidates: [...byId.keys()],
    limit: lease.limit,
    ttlMs: lease.ttlMs,
  });
  return leased.flatMap((resource) => byId.get(resource) ?? []);
}

/**
 * Gives leases back. A failure (the database unreachable for a moment) must not replace the round's
 * own outcome, and an unreleased lease expires by itself after its time to live, so the error is
 * logged as a warning naming the service and never thrown.
 */
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
