/**
 * Per-relay sync cursors. completed_until is the upper end of the last window a pass took on: with
 * the owed windows of `sync_gap` (the unfinished rest of a pass included), everything of the relay in
 * [sync.since, completed_until] is archived except those windows. The last pass's outcome (complete
 * only when proven, or why not) is kept beside it. pass_until / position_at are read only to turn an
 * interrupted pass of an older release into an owed window.
 */
import type { Queryable } from './database.js';

export interface SyncCursor {
  relayId: number;
  scope: string;
  positionAt: number | null;
  passUntil: number | null;
  completedUntil: number | null;
  /** When the last pass over the whole history completed (ms since epoch). */
  lastFullPassAt: number | null;
  negentropy: 'supported' | 'unsupported' | null;
  negentropyCheckedAt: number | null;
}

export async function readCursor(db: Queryable, relayId: number, scope = 'all'): Promise<SyncCursor> {
  const { rows } = await db.query<{
    position_at: number | null;
    pass_until: number | null;
    completed_until: number | null;
    last_full_pass_ms: number | null;
    negentropy: 'supported' | 'unsupported' | null;
    negentropy_checked_ms: number | null;
  }>(
    `SELECT position_at, pass_until, completed_until, negentropy,
            (extract(epoch FROM last_full_pass_at) * 1000)::bigint AS last_full_pass_ms,
            (extract(epoch FROM negentropy_checked_at) * 1000)::bigint AS negentropy_checked_ms
     FROM sync_cursor WHERE relay_id = $1 AND scope = $2`,
    [relayId, scope],
  );
  const row = rows[0];
  return {
    relayId,
    scope,
    positionAt: row?.position_at ?? null,
    passUntil: row?.pass_until ?? null,
    completedUntil: row?.completed_until ?? null,
    lastFullPassAt: row?.last_full_pass_ms ?? null,
    negentropy: row?.negentropy ?? null,
    negentropyCheckedAt: row?.negentropy_checked_ms ?? null,
  };
}

/** A pass takes on the window up to `until` (its unfinished rest is an owed window from now on). */
export async function advanceCompletedUntil(db: Queryable, relayId: number, until: number, scope = 'all'): Promise<void> {
  await db.query(
    `INSERT INTO sync_cursor (relay_id, scope, completed_until, updated_at) VALUES ($1, $2, $3, now())
     ON CONFLICT (relay_id, scope) DO UPDATE
       SET completed_until = GREATEST(sync_cursor.completed_until, EXCLUDED.completed_until),
           pass_until = NULL, position_at = NULL, updated_at = now()`,
    [relayId, scope, until],
  );
}

/**
 * Keeps the outcome of a pass with the cursor; `full` passes that ran to the end move
 * last_full_pass_at. `atMs` is the pass's clock, so schedules compare times of one clock.
 */
export async function recordPassOutcome(
  db: Queryable,
  relayId: number,
  outcome: { complete: boolean; reason?: string; requests: number; full: boolean; atMs: number },
  scope = 'all',
): Promise<void> {
  await db.query(
    `INSERT INTO sync_cursor (relay_id, scope, last_pass_at, last_pass_complete, last_pass_reason, last_pass_requests,
      last_full_pass_at, updated_at)
     VALUES ($1, $2, now(), $3, $4, $5, CASE WHEN $6::boolean THEN to_timestamp($7::double precision / 1000) END, now())
     ON CONFLICT (relay_id, scope) DO UPDATE
       SET last_pass_at = now(), last_pass_complete = EXCLUDED.last_pass_complete, last_pass_reason = EXCLUDED.last_pass_reason,
           last_pass_requests = EXCLUDED.last_pass_requests,
           last_full_pass_at = COALESCE(EXCLUDED.last_full_pass_at, sync_cursor.last_full_pass_at), updated_at = now()`,
    [relayId, scope, outcome.complete, outcome.reason?.slice(0, 500) ?? null, outcome.requests, outcome.full, outcome.atMs],
  );
}

/** Remembers whether the relay answered NEG-OPEN (at `atMs` of the pass's clock), so relays without NIP-77 are not probed every visit. */
export async function recordNegentropySupport(
  db: Queryable,
  relayId: number,
  supported: boolean,
  atMs: number = Date.now(),
  scope = 'all',
): Promise<void> {
  await db.query(
    `INSERT INTO sync_cursor (relay_id, scope, negentropy, negentropy_checked_at)
     VALUES ($1, $2, $3, to_timestamp($4::double precision / 1000))
     ON CONFLICT (relay_id, scope) DO UPDATE SET negentropy = EXCLUDED.negentropy, negentropy_checked_at = EXCLUDED.negentropy_checked_at`,
    [relayId, scope, supported ? 'supported' : 'unsupported', atMs],
  );
}
