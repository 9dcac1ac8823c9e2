/** Where events were seen: the relays of each event, with when each first served it. */
import type { Queryable } from './database.js';

export interface Sighting {
  relay: string;
  first_seen_at: Date;
}

/** The relays each of `ids` was seen on, oldest sighting first; ids seen nowhere are absent. */
export async function sightingsOf(db: Queryable, ids: string[]): Promise<Map<string, Sighting[]>> {
  const sightings = new Map<string, Sighting[]>();
  if (ids.length === 0) return sightings;
  const { rows } = await db.query<{ id: string; relay: string; first_seen_at: Date }>(
    `SELECT encode(er.event_id, 'hex') AS id, r.url AS relay, er.first_seen_at
     FROM event_relay er JOIN relay r ON r.id = er.relay_id
     WHERE er.event_id = ANY(ARRAY(SELECT decode(x, 'hex') FROM unnest($1::text[]) AS x))
     ORDER BY er.first_seen_at, r.url`,
    [ids],
  );
  for (const row of rows) {
    const list = sightings.get(row.id) ?? [];
    list.push({ relay: row.relay, first_seen_at: new Date(row.first_seen_at) });
    sightings.set(row.id, list);
  }
  return sightings;
}

/** The relays one event was seen on, oldest sighting first. */
export async function eventProvenance(db: Queryable, id: string): Promise<Sighting[]> {
  return (await sightingsOf(db, [id])).get(id) ?? [];
}

/** Which of `ids` the archive holds. */
export async function archivedIds(db: Queryable, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const { rows } = await db.query<{ id: string }>(
    `SELECT encode(id, 'hex') AS id FROM event WHERE id = ANY(ARRAY(SELECT decode(x, 'hex') FROM unnest($1::text[]) AS x))`,
    [ids],
  );
  return new Set(rows.map((row) => row.id));
}
