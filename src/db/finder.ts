/** Reads and writes of the finder: archived events in archive order, its cursor, relay mentions. */
import type { Queryable } from './database.js';
import { OPERATOR_SOURCES } from './relays.js';
import type { RelayNetwork } from './relays.js';

export interface FinderPosition {
  at: string;
  id: string;
}

export interface ArchivedEventRow {
  kind: number;
  tags: unknown;
  content: string;
  archived_at: string;
  id: string;
}

export async function readFinderCursor(db: Queryable, source: string): Promise<FinderPosition | undefined> {
  const { rows } = await db.query<{ at: string; id: string }>(
    `SELECT to_char(position_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at, encode(position_id, 'hex') AS id
     FROM finder_cursor WHERE source = $1`,
    [source],
  );
  return rows[0];
}

export async function saveFinderCursor(db: Queryable, source: string, position: FinderPosition): Promise<void> {
  await db.query(
    `INSERT INTO finder_cursor (source, position_at, position_id, updated_at) VALUES ($1, $2::timestamptz, decode($3, 'hex'), now())
     ON CONFLICT (source) DO UPDATE SET position_at = EXCLUDED.position_at, position_id = EXCLUDED.position_id, updated_at = now()`,
    [source, position.at, position.id],
  );
}

/** The next events in archive order after `after`, archived before now() minus `lagSeconds`. */
export async function archivedEventsAfter(
  db: Queryable,
  after: FinderPosition | undefined,
  limit: number,
  lagSeconds: number,
): Promise<ArchivedEventRow[]> {
  const { rows } = await db.query<ArchivedEventRow>(
    `SELECT kind, tags, content, to_char(archived_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS archived_at,
         encode(id, 'hex') AS id
     FROM event
     WHERE archived_at < now() - make_interval(secs => $4::double precision)
       AND ($1::timestamptz IS NULL OR (archived_at, id) > ($1::timestamptz, decode($2, 'hex')))
     ORDER BY archived_at, id
     LIMIT $3`,
    [after?.at ?? null, after?.id ?? '', limit, lagSeconds],
  );
  return rows;
}

export interface RelayMention {
  url: string;
  network: RelayNetwork;
  count: number;
}

/**
 * Adds mentioned URLs as candidates (first source remembered), adds `count` to the mention count of
 * known ones, and makes relays retired more than `reviveAfterSeconds` ago candidates again.
 */
export async function recordRelayMentions(
  db: Queryable,
  mentions: RelayMention[],
  source: string,
  reviveAfterSeconds: number,
): Promise<{ inserted: number; revived: number }> {
  if (mentions.length === 0) return { inserted: 0, revived: 0 };
  const { rows } = await db.query<{ inserted: boolean; revived: boolean }>(
    `INSERT INTO relay AS r (url, network, discovered_from, mention_count)
     SELECT url, network, $4, count FROM unnest($1::text[], $2::text[], $3::bigint[]) AS input(url, network, count)
     ON CONFLICT (url) DO UPDATE SET
       mention_count = r.mention_count + EXCLUDED.mention_count,
       state = CASE WHEN r.state = 'retired' AND r.state_changed_at <= now() - make_interval(secs => $5::double precision)
           THEN 'candidate' ELSE r.state END,
       state_changed_at = CASE WHEN r.state = 'retired' AND r.state_changed_at <= now() - make_interval(secs => $5::double precision)
           THEN now() ELSE r.state_changed_at END,
       updated_at = now()
     RETURNING (xmax = 0) AS inserted, (xmax <> 0 AND state = 'candidate' AND state_changed_at = now()) AS revived`,
    [
      mentions.map((mention) => mention.url),
      mentions.map((mention) => mention.network),
      mentions.map((mention) => mention.count),
      source,
      reviveAfterSeconds,
    ],
  );
  return { inserted: rows.filter((row) => row.inserted).length, revived: rows.filter((row) => row.revived).length };
}

/** Active relays for the finder's direct scan, least recently scanned first, with where the last scan ended. */
export async function relaysForDirectScan(
  db: Queryable,
  limit: number,
  networks: string[] = ['clearnet', 'tor', 'i2p', 'loki'],
): Promise<{ id: number; url: string; scannedUntil: number | null; trusted: boolean }[]> {
  const { rows } = await db.query<{ id: number; url: string; scanned_until: number | null; trusted: boolean }>(
    `SELECT r.id, r.url, extract(epoch FROM c.position_at)::bigint AS scanned_until, r.discovered_from = ANY($2::text[]) AS trusted
     FROM relay r LEFT JOIN finder_cursor c ON c.source = 'relay:' || r.id
     WHERE r.state = 'active' AND r.network = ANY($3::text[])
     ORDER BY c.updated_at NULLS FIRST, r.id
     LIMIT $1`,
    [limit, OPERATOR_SOURCES, networks],
  );
  return rows.map((row) => ({
    id: row.id,
    url: row.url,
    scannedUntil: row.scanned_until === null ? null : Number(row.scanned_until),
    trusted: row.trusted,
  }));
}

export async function saveDirectScanPosition(db: Queryable, relayId: number, until: number): Promise<void> {
  await db.query(
    `INSERT INTO finder_cursor (source, position_at, position_id, updated_at)
     VALUES ('relay:' || $1, to_timestamp($2), '\\x00'::bytea, now())
     ON CONFLICT (source) DO UPDATE SET position_at = EXCLUDED.position_at, updated_at = now()`,
    [relayId, until],
  );
}
