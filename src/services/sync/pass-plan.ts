/**
 * Before a relay pass talks to the relay: the window it covers (from the cursor, the schedule of full
 * passes and the retention floor), whether to try NIP-77 negentropy, and the owed windows it works
 * (its own window written down first, so a pass stopped at any point leaves its remainder owed).
 */
import type { Config } from '../../config/schema.js';
import type { Database } from '../../db/database.js';
import { knownLimitation } from '../../db/relay-metadata.js';
import { advanceCompletedUntil, readCursor, type SyncCursor } from '../../db/sync-cursors.js';
import { insertOwed, planOwed, type OwedRow } from '../../db/sync-gaps.js';
import type { RelayFilterLimits } from '../../relay/filter-limits.js';
import { loadFilterLimits } from '../relay-filter-limits.js';
import type { PassWindow, RelaySyncOptions } from './pass-types.js';

/** What a pass knows before it connects; every time decision reads `clock` (tests inject one). */
export interface PassPlan {
  clock: () => number;
  startedMs: number;
  /** When the pass's time budget runs out (ms, by `clock`). */
  deadline: number;
  cursor: SyncCursor;
  window: PassWindow;
  limits: RelayFilterLimits;
  frameSizeLimit: number;
}

/** Reads the relay's cursor and known limits, and fixes the pass's window and time budget. */
export async function preparePass(options: RelaySyncOptions): Promise<PassPlan> {
  const { db, relay, config } = options;
  const clock = options.clock ?? Date.now;
  const startedMs = clock();
  const deadline = startedMs + config.sync.pass_time_budget_seconds * 1000;
  const cursor = await readCursor(db, relay.id);
  const window = passWindow(cursor, config, options, startedMs);
  const limits = await loadFilterLimits(db, relay.id, config, startedMs);
  const { maxMessageLength } = await knownLimitation(db, relay.id);
  const frameSizeLimit = negentropyFrameSizeLimit(config, maxMessageLength);
  return { clock, startedMs, deadline, cursor, window, limits, frameSizeLimit };
}

export function passWindow(
  cursor: SyncCursor,
  config: Config,
  options: Pick<RelaySyncOptions, 'since' | 'until'>,
  nowMs: number,
): PassWindow {
  const now = Math.floor(nowMs / 1000);
  const until = options.until ?? now;
  const fullPassDue =
    config.sync.full_pass_interval_seconds > 0 &&
    (cursor.lastFullPassAt === null || nowMs - cursor.lastFullPassAt >= config.sync.full_pass_interval_seconds * 1000);
  // With event retention, nothing older than its cutoff is fetched again (maintenance drops it).
  const retentionFloor = config.maintenance.event_retention_days > 0 ? now - config.maintenance.event_retention_days * 86_400 : 0;
  const oldest = Math.max(config.sync.since, retentionFloor);
  const wholeRange = cursor.negentropy === 'supported' && config.sync.negentropy !== 'off' && config.sync.negentropy_full_range;
  const since =
    options.since ??
    (cursor.completedUntil === null || fullPassDue || wholeRange
      ? oldest
      : Math.max(oldest, cursor.completedUntil - config.sync.rescan_window_seconds));
  return { since: Math.min(since, until), until, full: since <= oldest };
}

/**
 * Negentropy messages travel hex-encoded (twice their size) inside a JSON array: keep them under the
 * relay's advertised message limit, within the protocol's minimum of 4096 bytes.
 */
export function negentropyFrameSizeLimit(config: Config, maxMessageLength: number | undefined): number {
  if (maxMessageLength === undefined) return config.sync.negentropy_frame_size_limit;
  return Math.max(
    4_096,
    Math.min(config.sync.negentropy_frame_size_limit || Number.POSITIVE_INFINITY, Math.floor((maxMessageLength - 256) / 2)),
  );
}

export function shouldTryNegentropy(cursor: SyncCursor, config: Config, nowMs: number): boolean {
  if (config.sync.negentropy === 'off') return false;
  if (cursor.negentropy !== 'unsupported' || cursor.negentropyCheckedAt === null) return true;
  return nowMs - cursor.negentropyCheckedAt >= config.sync.negentropy_recheck_seconds * 1000;
}

/**
 * Writes the pass's window down as owed (with what an interrupted older pass left) and returns the
 * relay's owed windows this pass works, with the last owed id planned (later ones are owed during it).
 */
export function planOwedWindows(
  db: Database,
  relayId: number,
  config: Config,
  plan: Pick<PassPlan, 'cursor' | 'window' | 'startedMs'>,
): Promise<{ rows: OwedRow[]; lastId: number }> {
  const { cursor, window, startedMs } = plan;
  return db.transaction(async (tx) => {
    if (cursor.passUntil !== null) {
      // A pass of an older release was interrupted: its unfinished part becomes an owed window.
      await insertOwed(
        tx,
        relayId,
        { since: config.sync.since, until: cursor.positionAt ?? cursor.passUntil, reason: 'interrupted pass', attempts: 0 },
        startedMs,
      );
    }
    await advanceCompletedUntil(tx, relayId, window.until);
    return planOwed(tx, relayId, window, config.sync.owed_windows_per_pass, startedMs);
  });
}
