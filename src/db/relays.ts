/** The relay table: candidates from discovery and seeds, lookups of the compact relay id. */
import type { Queryable } from './database.js';

export type RelayNetwork = 'clearnet' | 'tor' | 'i2p' | 'loki';

/** Sources the operator controls: relays from them may be on private addresses (`discovered_from`). */
export const OPERATOR_SOURCES: readonly string[] = ['seed', 'config', 'cli'];
export type RelayState = 'candidate' | 'active' | 'retired';

export interface RelayCandidate {
  /** Already normalised. */
  url: string;
  network: RelayNetwork;
}

export interface InsertCandidatesResult {
  /** URLs new to the table. */
  inserted: number;
  /** URLs the table had already (their mention_count is bumped). */
  alreadyKnown: number;
}

/**
 * Adds URLs as candidates in one statement. Known URLs keep their state and first source; their
 * mention count grows by one.
 */
export async function insertCandidates(db: Queryable, candidates: RelayCandidate[], source: string): Promise<InsertCandidatesResult> {
  const unique = new Map(candidates.map((candidate) => [candidate.url, candidate]));
  if (unique.size === 0) return { inserted: 0, alreadyKnown: 0 };
  const urls = [...unique.keys()];
  const networks = urls.map((url) => (unique.get(url) as RelayCandidate).network);
  const { rows } = await db.query<{ inserted: boolean }>(
    `INSERT INTO relay (url, network, discovered_from)
     SELECT url, network, $3 FROM unnest($1::text[], $2::text[]) AS input(url, network)
     ON CONFLICT (url) DO UPDATE SET mention_count = relay.mention_count + 1, updated_at = now()
     RETURNING (xmax = 0) AS inserted`,
    [urls, networks, source],
  );
  const inserted = rows.filter((row) => row.inserted).length;
  return { inserted, alreadyKnown: rows.length - inserted };
}

/** Ids of the given URLs, creating missing ones as candidates from `source`. */
export async function getOrCreateRelayIds(db: Queryable, candidates: RelayCandidate[], source: string): Promise<Map<string, number>> {
  if (candidates.length === 0) return new Map();
  await db.query(
    `INSERT INTO relay (url, network, discovered_from)
     SELECT url, network, $3 FROM unnest($1::text[], $2::text[]) AS input(url, network)
     ON CONFLICT (url) DO NOTHING`,
    [candidates.map((candidate) => candidate.url), candidates.map((candidate) => candidate.network), source],
  );
  const { rows } = await db.query<{ id: number; url: string }>('SELECT id, url FROM relay WHERE url = ANY($1::text[])', [
    candidates.map((candidate) => candidate.url),
  ]);
  return new Map(rows.map((row) => [row.url, row.id]));
}

export async function setRelayState(db: Queryable, relayId: number, state: RelayState): Promise<void> {
  await db.query(`UPDATE relay SET state = $2, state_changed_at = now(), updated_at = now() WHERE id = $1 AND state <> $2`, [
    relayId,
    state,
  ]);
}

export interface RelayRow {
  id: number;
  url: string;
  network: RelayNetwork;
  state: RelayState;
  discoveredFrom: string;
}

export async function listRelays(db: Queryable, filter: { state?: RelayState; network?: RelayNetwork } = {}): Promise<RelayRow[]> {
  const { rows } = await db.query<RelayRow>(
    `SELECT id, url, network, state, discovered_from AS "discoveredFrom" FROM relay
     WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR network = $2)
     ORDER BY id`,
    [filter.state ?? null, filter.network ?? null],
  );
  return rows;
}
