/**
 * The maintenance lease: one process at a time runs maintenance. It is one resource taken at the
 * start of a run, renewed while a long run goes on, and given back at the end.
 */
import type { Database } from '../../db/database.js';
import { acquireLeases, renewLeases } from '../../db/leases.js';
import type { Logger } from '../../observability/logger.js';
import { releaseLeasesQuietly } from '../work-pool.js';

export const MAINTENANCE_SERVICE = 'maintenance';
const LEASE_RESOURCE = 'run';
const LEASE_TTL_MS = 10 * 60_000;

/** Takes the maintenance lease; false when another process holds it. */
export async function takeMaintenanceLease(db: Database, owner: string): Promise<boolean> {
  const leased = await acquireLeases(db, {
    service: MAINTENANCE_SERVICE,
    owner,
    candidates: [LEASE_RESOURCE],
    limit: 1,
    ttlMs: LEASE_TTL_MS,
  });
  return leased.length > 0;
}

/**
 * Keeps the maintenance lease alive during a long run; throws once it is lost. No owner (a dry run):
 * nothing to keep. The renewal cadence is a duration on the monotonic clock, not a time of day.
 */
export function leaseKeeper(db: Database, owner: string | undefined): () => Promise<void> {
  let renewedAt = performance.now();
  return async () => {
    if (owner === undefined || performance.now() - renewedAt < LEASE_TTL_MS / 10) return;
    const held = await renewLeases(db, { service: MAINTENANCE_SERVICE, owner, resources: [LEASE_RESOURCE], ttlMs: LEASE_TTL_MS });
    if (held.length === 0) throw new Error('maintenance lease lost (another process took over); stopping this run');
    renewedAt = performance.now();
  };
}

/** Gives the lease back; a failure is logged, never thrown (the lease expires by itself). */
export function releaseMaintenanceLease(db: Database, owner: string, logger: Logger): Promise<void> {
  return releaseLeasesQuietly(db, { service: MAINTENANCE_SERVICE, owner, resources: [LEASE_RESOURCE] }, logger);
}
