/**
 * Relay health for the circuit breaker: consecutive failures bench a relay for an exponentially
 * growing time (with jitter) and record why; one success clears it.
 */
import type { Queryable } from './database.js';

export interface BackoffPolicy {
  baseSeconds: number;
  maxSeconds: number;
}

export async function recordRelayFailure(db: Queryable, relayId: number, reason: string, policy: BackoffPolicy): Promise<void> {
  await db.query(
    `INSERT INTO relay_health (relay_id, consecutive_failures, last_failure_at, last_error, benched_until, updated_at)
     VALUES ($1, 1, now(), $2, now() + make_interval(secs => $3::double precision * (0.5 + random())), now())
     ON CONFLICT (relay_id) DO UPDATE SET
       consecutive_failures = relay_health.consecutive_failures + 1,
       last_failure_at = now(),
       last_error = EXCLUDED.last_error,
       benched_until = now() + make_interval(secs => least($4::double precision,
           $3::double precision * power(2, relay_health.consecutive_failures))
           * (0.5 + random())),
       updated_at = now()`,
    [relayId, reason.slice(0, 500), policy.baseSeconds, policy.maxSeconds],
  );
}

export async function recordRelaySuccess(db: Queryable, relayId: number): Promise<void> {
  await db.query(
    `INSERT INTO relay_health (relay_id, consecutive_failures, last_success_at, updated_at) VALUES ($1, 0, now(), now())
     ON CONFLICT (relay_id) DO UPDATE SET consecutive_failures = 0, last_success_at = now(), benched_until = NULL, updated_at = now()`,
    [relayId],
  );
}
