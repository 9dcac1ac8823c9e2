/** Archive-wide counts for `bigbrotr stats` and the API (events, pairs, checks, metadata: src/db/archive-counters.ts). */
import type { RelayLimitColumns } from './relay-limits.js';
import { archiveTotals } from './archive-counters.js';
import type { Queryable } from './database.js';
import { claimCounts, type ClaimCounts } from './nip-claims.js';

export interface ArchiveStats {
  relays: { total: number; byNetwork: Record<string, number>; byState: Record<string, number> };
  events: number;
  eventRelayPairs: number;
  metadata: number;
  relayChecks: number;
  sync: {
    /** Relays whose last pass proved its window with nothing owed, and those whose did not. */
    relaysComplete: number;
    relaysIncomplete: number;
    owedWindows: number;
    withheldIds: number;
    /** Per relay, the filter limits learned from its refusals and NIP-11, and its COUNT status. */
    learnedLimits: {
      url: string;
      maxLimit: number | null;
      maxKinds: number | null;
      maxAuthors: number | null;
      maxIds: number | null;
      maxFilters: number | null;
      requiresKinds: boolean;
      largestPage: number | null;
      count: string | null;
    }[];
  };
  /** Relays (not retired) claiming NIP-9/40/42/45/50/70/77 in NIP-11, and how many were seen doing it or not (src/db/nip-claims.ts). */
  claims: ClaimCounts;
}

export async function collectStats(db: Queryable): Promise<ArchiveStats> {
  const relays = await relayCounts(db);
  const counts = await archiveTotals(db);
  const sync = await syncStats(db);
  const claims = await claimCounts(db);
  return {
    relays,
    events: counts.events,
    eventRelayPairs: counts.event_relay,
    metadata: counts.metadata,
    relayChecks: counts.relay_check,
    sync,
    claims,
  };
}

async function relayCounts(db: Queryable): Promise<ArchiveStats['relays']> {
  const { rows } = await db.query<{ network: string; state: string; count: number }>(
    'SELECT network, state, count(*) AS count FROM relay GROUP BY network, state',
  );
  const byNetwork: Record<string, number> = { clearnet: 0, tor: 0, i2p: 0, loki: 0 };
  const byState: Record<string, number> = { candidate: 0, active: 0, retired: 0 };
  let total = 0;
  for (const row of rows) {
    const count = Number(row.count);
    total += count;
    byNetwork[row.network] = (byNetwork[row.network] ?? 0) + count;
    byState[row.state] = (byState[row.state] ?? 0) + count;
  }
  return { total, byNetwork, byState };
}

async function syncStats(db: Queryable): Promise<ArchiveStats['sync']> {
  const sync = await db.query<{ complete: string; incomplete: string; owed: string; withheld: string }>(
    `SELECT (SELECT count(*) FROM sync_cursor WHERE last_pass_complete) AS complete,
            (SELECT count(*) FROM sync_cursor WHERE last_pass_complete = false) AS incomplete,
            (SELECT count(*) FROM sync_gap) AS owed,
            (SELECT count(*) FROM relay_withheld) AS withheld`,
  );
  const learned = await db.query<RelayLimitColumns & { url: string }>(
    `SELECT r.url, l.max_limit, l.max_kinds, l.max_authors, l.max_ids, l.max_filters, l.requires_kinds, l.largest_page, l.count_trust
     FROM relay_limits l JOIN relay r ON r.id = l.relay_id ORDER BY r.url`,
  );
  const counts = sync.rows[0];
  return {
    relaysComplete: Number(counts?.complete ?? 0),
    relaysIncomplete: Number(counts?.incomplete ?? 0),
    owedWindows: Number(counts?.owed ?? 0),
    withheldIds: Number(counts?.withheld ?? 0),
    learnedLimits: learned.rows.map((row) => ({
      url: row.url,
      maxLimit: row.max_limit,
      maxKinds: row.max_kinds,
      maxAuthors: row.max_authors,
      maxIds: row.max_ids,
      maxFilters: row.max_filters,
      requiresKinds: row.requires_kinds,
      largestPage: row.largest_page,
      count: row.count_trust,
    })),
  };
}
