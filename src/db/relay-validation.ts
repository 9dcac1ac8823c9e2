/** Candidate relays due for a probe, and what a probe's outcome does to them. */
import type { Queryable } from './database.js';

export interface DueCandidate {
  id: number;
  url: string;
  discovered_from: string;
}

/**
 * Candidates never probed or whose next attempt is due, not leased by another validator, on the
 * `networks` this process can reach (a candidate on another network waits, never probed nor retired).
 */
export async function dueCandidates(
  db: Queryable,
  options: { limit: number; service: string; networks?: string[] },
): Promise<DueCandidate[]> {
  const { rows } = await db.query<DueCandidate>(
    `SELECT r.id, r.url, r.discovered_from FROM relay r
     LEFT JOIN relay_validation v ON v.relay_id = r.id
     WHERE r.state = 'candidate' AND (v.next_attempt_at IS NULL OR v.next_attempt_at <= now())
       AND NOT EXISTS (SELECT 1 FROM service_lease l WHERE l.service = $2 AND l.resource = r.id::text AND l.expires_at > now())
       AND r.network = ANY($3::text[])
     ORDER BY v.next_attempt_at NULLS FIRST, r.id
     LIMIT $1`,
    [options.limit, options.service, options.networks ?? ['clearnet', 'tor', 'i2p', 'loki']],
  );
  return rows;
}

export async function promoteCandidate(db: Queryable, relayId: number): Promise<void> {
  await db.query(`UPDATE relay SET state = 'active', state_changed_at = now(), updated_at = now() WHERE id = $1 AND state = 'candidate'`, [
    relayId,
  ]);
  await db.query('DELETE FROM relay_validation WHERE relay_id = $1', [relayId]);
}

export interface FailurePolicy {
  backoffSeconds: number;
  backoffMaxSeconds: number;
  maxAttempts: number;
  retireAfterSeconds: number;
}

/** Records a failed probe; retires the candidate after `maxAttempts` failures spanning `retireAfterSeconds`. */
export async function recordProbeFailure(
  db: Queryable,
  relayId: number,
  reason: string,
  policy: FailurePolicy,
): Promise<{ attempts: number; retired: boolean }> {
  const { rows } = await db.query<{ attempts: number; old_enough: boolean }>(
    `INSERT INTO relay_validation (relay_id, attempts, first_failure_at, last_attempt_at, next_attempt_at, last_error, updated_at)
     VALUES ($1, 1, now(), now(), now() + make_interval(secs => $3::double precision * (0.5 + random())), $2, now())
     ON CONFLICT (relay_id) DO UPDATE SET
       attempts = relay_validation.attempts + 1,
       first_failure_at = COALESCE(relay_validation.first_failure_at, now()),
       last_attempt_at = now(),
       next_attempt_at = now() + make_interval(secs => least($4::double precision,
           $3::double precision * power(2, relay_validation.attempts))
           * (0.5 + random())),
       last_error = EXCLUDED.last_error,
       updated_at = now()
     RETURNING attempts, first_failure_at <= now() - make_interval(secs => $5::double precision) AS old_enough`,
    [relayId, reason.slice(0, 500), policy.backoffSeconds, policy.backoffMaxSeconds, policy.retireAfterSeconds],
  );
  const row = rows[0] as { attempts: number; old_enough: boolean };
  const retired = row.attempts >= policy.maxAttempts && row.old_enough;
  if (retired) await retireRelay(db, relayId);
  return { attempts: row.attempts, retired };
}

/** Retires a relay (refused by screening, or failing for too long), keeping the reason in relay_validation. */
export async function retireRelay(db: Queryable, relayId: number, reason?: string): Promise<void> {
  await db.query(`UPDATE relay SET state = 'retired', state_changed_at = now(), updated_at = now() WHERE id = $1 AND state <> 'retired'`, [
    relayId,
  ]);
  if (reason !== undefined) {
    await db.query(
      `INSERT INTO relay_validation (relay_id, attempts, last_attempt_at, last_error, updated_at) VALUES ($1, 0, now(), $2, now())
       ON CONFLICT (relay_id) DO UPDATE SET last_attempt_at = now(), last_error = EXCLUDED.last_error, updated_at = now()`,
      [relayId, reason.slice(0, 500)],
    );
  }
}
