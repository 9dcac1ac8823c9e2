/**
 * Per-relay sync cursors. A pass scans a window [since, pass_until] newest first; position_at is the
 * second it has reached (inclusive: that second may be partly done). Everything newer than position_at
 * in the window is committed. completed_until is how far the relay is archived without gaps.
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

/** Records how far the current pass got; call in the same transaction as the events it covers. */
export async function savePassPosition(db: Queryable, cursor: { relayId: number; scope: string; passUntil: number; positionAt: number }): Promise<void> {
  await db.query(
    `INSERT INTO sync_cursor (relay_id, scope, pass_until, position_at, updated_at) VALUES ($1, $2, $3, $4, now())
     ON CONFLICT (relay_id, scope) DO UPDATE SET pass_until = EXCLUDED.pass_until, position_at = EXCLUDED.position_at, updated_at = now()`,
    [cursor.relayId, cursor.scope, cursor.passUntil, cursor.positionAt],
  );
}

/** Ends a pass: the relay is archived up to `completedUntil`; `full` when it covered the whole history. */
export async function completePass(db: Queryable, cursor: { relayId: number; scope: string; completedUntil: number; full: boolean }): Promise<void> {
  await db.query(
    `INSERT INTO sync_cursor (relay_id, scope, completed_until, last_full_pass_at, updated_at)
     VALUES ($1, $2, $3, CASE WHEN $4::boolean THEN now() END, now())
     ON CONFLICT (relay_id, scope) DO UPDATE
       SET completed_until = GREATEST(sync_cursor.completed_until, EXCLUDED.completed_until), pass_until = NULL, position_at = NULL,
           last_full_pass_at = COALESCE(EXCLUDED.last_full_pass_at, sync_cursor.last_full_pass_at), updated_at = now()`,
    [cursor.relayId, cursor.scope, cursor.completedUntil, cursor.full],
  );
}

/** Remembers whether the relay answered NEG-OPEN, so relays without NIP-77 are not probed every visit. */
export async function recordNegentropySupport(db: Queryable, relayId: number, supported: boolean, scope = 'all'): Promise<void> {
  await db.query(
    `INSERT INTO sync_cursor (relay_id, scope, negentropy, negentropy_checked_at) VALUES ($1, $2, $3, now())
     ON CONFLICT (relay_id, scope) DO UPDATE SET negentropy = EXCLUDED.negentropy, negentropy_checked_at = now()`,
    [relayId, scope, supported ? 'supported' : 'unsupported'],
  );
}
