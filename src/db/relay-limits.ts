/**
 * What has been learned about each relay's filter limits and COUNT (`relay_limits`). Read by every
 * service that sends REQs, written after each pass with what the relay's refusals taught.
 */
import type { CountStatus, LearnedLimit } from '../relay/filter-limits.js';
import type { Queryable } from './database.js';

export interface StoredRelayLimits {
  maxLimit?: number;
  maxKinds?: number;
  maxAuthors?: number;
  maxIds?: number;
  maxFilters?: number;
  requiresKinds: boolean;
  largestPage?: number;
  count?: CountStatus;
  /** When the list limits were last learned (ms since epoch). */
  learnedAtMs?: number;
  /** When the COUNT status was last decided (ms since epoch). */
  countCheckedAtMs?: number;
  /** How each limit was learned (the relay's words). */
  learned: Record<string, { message: string; at: string }>;
}

/** The learned limits as stored in relay_limits, one column each. */
export interface RelayLimitColumns {
  max_limit: number | null;
  max_kinds: number | null;
  max_authors: number | null;
  max_ids: number | null;
  max_filters: number | null;
  requires_kinds: boolean;
  largest_page: number | null;
  count_trust: CountStatus | null;
}

interface Row extends RelayLimitColumns {
  learned: Record<string, { message: string; at: string }> | string;
  learned_ms: number | string | null;
  count_checked_ms: number | string | null;
}

const COLUMNS = `max_limit, max_kinds, max_authors, max_ids, max_filters, requires_kinds, largest_page, count_trust, learned,
  (extract(epoch FROM learned_at) * 1000)::bigint AS learned_ms, (extract(epoch FROM count_checked_at) * 1000)::bigint AS count_checked_ms`;

function fromRow(row: Row): StoredRelayLimits {
  const optional = <K extends string>(key: K, value: number | null) => (value === null ? {} : { [key]: value });
  return {
    ...optional('maxLimit', row.max_limit),
    ...optional('maxKinds', row.max_kinds),
    ...optional('maxAuthors', row.max_authors),
    ...optional('maxIds', row.max_ids),
    ...optional('maxFilters', row.max_filters),
    requiresKinds: row.requires_kinds,
    ...optional('largestPage', row.largest_page),
    ...(row.count_trust ? { count: row.count_trust } : {}),
    ...(row.learned_ms === null ? {} : { learnedAtMs: Number(row.learned_ms) }),
    ...(row.count_checked_ms === null ? {} : { countCheckedAtMs: Number(row.count_checked_ms) }),
    learned: typeof row.learned === 'string' ? (JSON.parse(row.learned) as StoredRelayLimits['learned']) : row.learned,
  };
}

export async function readRelayLimits(db: Queryable, relayId: number): Promise<StoredRelayLimits | undefined> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM relay_limits WHERE relay_id = $1`, [relayId]);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

/** Every relay's learned limits, by relay id (for stats and the API). */
export async function readAllRelayLimits(db: Queryable, relayIds: number[]): Promise<Map<number, StoredRelayLimits>> {
  if (relayIds.length === 0) return new Map();
  const { rows } = await db.query<Row & { relay_id: number }>(
    `SELECT relay_id, ${COLUMNS} FROM relay_limits WHERE relay_id = ANY($1::int[])`,
    [relayIds],
  );
  return new Map(rows.map((row) => [row.relay_id, fromRow(row)]));
}

const COLUMN_OF: Record<LearnedLimit['field'], string> = {
  limit: 'max_limit',
  kinds: 'max_kinds',
  authors: 'max_authors',
  ids: 'max_ids',
  filters: 'max_filters',
  requires_kinds: 'requires_kinds',
};

/**
 * Stores what one pass learned: list limits (with the relay's words), COUNT status, largest page.
 * Within a pass limits only shrink; learned limits older than sync.limits_reprobe_seconds are not
 * applied (see relayFilterLimits), so the relay is probed with the configured sizes again and the
 * next refusal overwrites them.
 */
export async function saveLearnedLimits(
  db: Queryable,
  relayId: number,
  learned: { limits: LearnedLimit[]; count?: CountStatus; largestPage?: number },
): Promise<void> {
  if (learned.limits.length === 0 && learned.count === undefined && learned.largestPage === undefined) return;
  const sets: string[] = [];
  const params: unknown[] = [relayId];
  const explanations: Record<string, { message: string; at: string }> = {};
  for (const change of learned.limits) {
    const column = COLUMN_OF[change.field];
    params.push(change.value);
    sets.push(`${column} = $${params.length}::${column === 'requires_kinds' ? 'boolean' : 'int'}`);
    explanations[column] = { message: change.message, at: new Date().toISOString() };
  }
  if (learned.limits.length > 0) {
    params.push(JSON.stringify(explanations));
    sets.push(`learned = relay_limits.learned || $${params.length}::jsonb`, 'learned_at = now()');
  }
  if (learned.count !== undefined) {
    params.push(learned.count);
    sets.push(`count_trust = $${params.length}`, 'count_checked_at = now()');
  }
  if (learned.largestPage !== undefined) {
    params.push(learned.largestPage);
    sets.push(`largest_page = GREATEST(COALESCE(relay_limits.largest_page, 0), $${params.length}::int)`);
  }
  await db.query('INSERT INTO relay_limits (relay_id) VALUES ($1) ON CONFLICT (relay_id) DO NOTHING', [relayId]);
  await db.query(`UPDATE relay_limits SET ${sets.join(', ')}, updated_at = now() WHERE relay_id = $1`, params);
}
