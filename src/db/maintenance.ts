/**
 * Storage side of the maintenance service (docs/maintenance.md): listing the partitions of `event`
 * and `relay_check` with their ranges, creating them ahead of time, replacing an event partition by
 * monthly ones, counting the rows of the default partitions, retiring expired ones, removing
 * orphan metadata documents, and ANALYZE. DDL goes through the SQL functions of migrations 0008 and 0013
 * (SECURITY DEFINER: the services' role has no DDL rights). Every DDL step runs in its own short
 * transaction with a `lock_timeout`, so a busy table makes a step fail (and the next run retry it)
 * instead of queueing every reader and writer behind it.
 */
import type { Database, Queryable } from './database.js';

export type PartitionedTable = 'event' | 'relay_check';

export interface PartitionInfo {
  table: PartitionedTable;
  name: string;
  isDefault: boolean;
  /** Start of the range in unix seconds (inclusive); null for the default partition or MINVALUE. */
  from: number | null;
  /** End of the range in unix seconds (exclusive); null for the default partition or MAXVALUE. */
  to: number | null;
  /** The planner's row estimate (pg_class.reltuples; 0 when never analyzed). */
  estimatedRows: number;
}

/** Prefix of an expired event partition that is detached and waiting for its provenance rows to go. */
export const EXPIRED_EVENT_PREFIX = 'bigbrotr_expired_';

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The partition key of each table, as an expression turning a bound literal into unix seconds. */
const BOUND_TO_SECONDS: Record<PartitionedTable, (literal: string) => string> = {
  event: (literal) => `(${literal})::bigint::float8`,
  relay_check: (literal) => `extract(epoch FROM (${literal})::timestamptz)::float8`,
};

export async function listPartitions(db: Queryable, table: PartitionedTable): Promise<PartitionInfo[]> {
  const bound = (index: number) => {
    const literal = `trim(BOTH '''' FROM m[${index}])`;
    return `CASE WHEN m IS NULL OR m[${index}] IN ('MINVALUE', 'MAXVALUE') THEN NULL ELSE ${BOUND_TO_SECONDS[table](literal)} END`;
  };
  const { rows } = await db.query<{
    name: string;
    is_default: boolean;
    from_s: number | null;
    to_s: number | null;
    estimated_rows: number;
  }>(
    `SELECT c.relname AS name, b.bound = 'DEFAULT' AS is_default, ${bound(1)} AS from_s, ${bound(2)} AS to_s,
            greatest(c.reltuples, 0)::float8 AS estimated_rows
     FROM pg_inherits i
     JOIN pg_class c ON c.oid = i.inhrelid
     CROSS JOIN LATERAL (SELECT pg_get_expr(c.relpartbound, c.oid) AS bound) b
     LEFT JOIN LATERAL regexp_match(b.bound, '^FOR VALUES FROM \\((.*)\\) TO \\((.*)\\)$') AS m ON true
     WHERE i.inhparent = $1::regclass
     ORDER BY from_s NULLS LAST, c.relname`,
    [table],
  );
  return rows.map((row) => ({
    table,
    name: row.name,
    isDefault: row.is_default,
    from: row.from_s === null ? null : Number(row.from_s),
    to: row.to_s === null ? null : Number(row.to_s),
    estimatedRows: Math.round(Number(row.estimated_rows)),
  }));
}

/** Runs `fn` in a transaction whose lock waits give up after `lockTimeoutMs`. */
async function withLockTimeout<T>(db: Database, lockTimeoutMs: number, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.query(`SELECT set_config('lock_timeout', $1, true)`, [`${lockTimeoutMs}ms`]);
    return fn(tx);
  });
}

/** Creates the event partition `name` for [from, to) (unix seconds) unless it exists; rows already in event_default move in. */
export async function createEventPartition(
  db: Database,
  partition: { name: string; from: number; to: number },
  lockTimeoutMs: number,
): Promise<boolean> {
  return withLockTimeout(db, lockTimeoutMs, (tx) => createEventPartitionIn(tx, partition));
}

async function createEventPartitionIn(tx: Queryable, partition: { name: string; from: number; to: number }): Promise<boolean> {
  const { rows } = await tx.query<{ missing: boolean }>('SELECT to_regclass($1) IS NULL AS missing', [quoteIdent(partition.name)]);
  if (rows[0]?.missing !== true) return false;
  await tx.query('SELECT bigbrotr_create_event_partition($1, $2, $3)', [partition.name, partition.from, partition.to]);
  return true;
}

/**
 * Replaces an event partition by others (monthly ones) in one transaction: the partition is dropped
 * if it holds at most `maxRows` rows (counted under an exclusive lock on `event`, so none arrive
 * meanwhile; its rows pass through event_default), then `into` is created. Returns false, changing
 * nothing, when it holds more rows or is no longer a partition of event.
 */
export async function splitEventPartition(
  db: Database,
  name: string,
  into: { name: string; from: number; to: number }[],
  maxRows: number,
  lockTimeoutMs: number,
): Promise<boolean> {
  return withLockTimeout(db, lockTimeoutMs, async (tx) => {
    const { rows } = await tx.query<{ dissolved: boolean }>('SELECT bigbrotr_dissolve_event_partition($1, $2) AS dissolved', [
      name,
      maxRows,
    ]);
    if (rows[0]?.dissolved !== true) return false;
    for (const partition of into) await createEventPartitionIn(tx, partition);
    return true;
  });
}

/** Rows of a partition, counted up to `limit` (cheap on a big one). */
export async function countRowsUpTo(db: Queryable, partition: string, limit: number): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*) AS n FROM (SELECT 1 FROM ${quoteIdent(partition)} LIMIT $1) s`, [limit]);
  return Number(rows[0]?.n ?? 0);
}

/**
 * The rows of a default partition: how many in all, and (event_default only) how many per UTC month
 * for those dated in [from, to) (unix seconds). One scan; the default partition is meant to stay small.
 */
export async function defaultPartitionRows(
  db: Queryable,
  defaultPartition: string,
  months?: { from: number; to: number },
): Promise<{ total: number; months: { monthStart: number; rows: number }[] }> {
  if (months === undefined) {
    const { rows } = await db.query<{ n: number }>(`SELECT count(*) AS n FROM ${quoteIdent(defaultPartition)}`);
    return { total: Number(rows[0]?.n ?? 0), months: [] };
  }
  const { rows } = await db.query<{ month_start: number | null; n: number }>(
    `SELECT month_start, count(*) AS n FROM (
       SELECT CASE WHEN created_at >= $1 AND created_at < $2
                   THEN extract(epoch FROM date_trunc('month', to_timestamp(created_at) AT TIME ZONE 'UTC'))::float8 END AS month_start
       FROM ${quoteIdent(defaultPartition)}) s
     GROUP BY month_start ORDER BY month_start NULLS LAST`,
    [months.from, months.to],
  );
  return {
    total: rows.reduce((sum, row) => sum + Number(row.n), 0),
    months: rows.filter((row) => row.month_start !== null).map((row) => ({ monthStart: Number(row.month_start), rows: Number(row.n) })),
  };
}

/** Creates the relay_check partition of the UTC month starting at `monthStart` unless it exists. */
export async function createCheckPartition(db: Database, monthStart: Date, lockTimeoutMs: number): Promise<boolean> {
  return withLockTimeout(db, lockTimeoutMs, async (tx) => {
    const { rows } = await tx.query<{ created: boolean }>('SELECT bigbrotr_create_relay_check_partition($1::timestamptz) AS created', [
      monthStart.toISOString(),
    ]);
    return rows[0]?.created === true;
  });
}

/** Drops a partition of relay_check (whole: no row-by-row delete). False when it is no longer there. */
export async function dropCheckPartition(db: Database, name: string, lockTimeoutMs: number): Promise<boolean> {
  return withLockTimeout(db, lockTimeoutMs, async (tx) => {
    const { rows } = await tx.query<{ dropped: boolean }>('SELECT bigbrotr_drop_relay_check_partition($1) AS dropped', [name]);
    return rows[0]?.dropped === true;
  });
}

/**
 * Detaches an expired event partition and renames it `bigbrotr_expired_<name>` in one transaction:
 * from then on its events are out of the archive (queries and inserts no longer see it), and the
 * rename lets a later run finish the job after a crash. Returns the new name, or null when the
 * partition is no longer attached.
 */
export async function detachEventPartition(db: Database, name: string, lockTimeoutMs: number): Promise<string | null> {
  return withLockTimeout(db, lockTimeoutMs, async (tx) => {
    const { rows } = await tx.query<{ expired: string | null }>('SELECT bigbrotr_detach_event_partition($1) AS expired', [name]);
    return rows[0]?.expired ?? null;
  });
}

/** Detached expired event partitions left by an interrupted run. */
export async function listExpiredEventTables(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c
     WHERE c.relkind = 'r' AND c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = 'event'::regclass)
       AND starts_with(c.relname, $1) AND NOT c.relispartition
     ORDER BY c.relname`,
    [EXPIRED_EVENT_PREFIX],
  );
  return rows.map((row) => row.name);
}

/**
 * Deletes the provenance rows of the next `limit` events (in id order after `afterIdHex`) of a
 * detached expired partition. Rows of an event archived again since the detach (it then lives in
 * event_default, the only partition its range can reach) are kept with it.
 */
export async function deleteExpiredProvenanceBatch(
  db: Queryable,
  expiredTable: string,
  afterIdHex: string,
  limit: number,
): Promise<{ events: number; links: number; lastIdHex: string | null }> {
  const { rows } = await db.query<{ events: number; links: number; last_id: string | null }>(
    `WITH batch AS (
       SELECT id FROM ${quoteIdent(expiredTable)} WHERE id > decode($1, 'hex') ORDER BY id LIMIT $2
     ),
     gone AS (
       DELETE FROM event_relay er USING batch b
       WHERE er.event_id = b.id AND NOT EXISTS (SELECT 1 FROM event_default d WHERE d.id = er.event_id)
       RETURNING 1
     )
     SELECT (SELECT count(*) FROM batch) AS events, (SELECT count(*) FROM gone) AS links,
            (SELECT encode(id, 'hex') FROM batch ORDER BY id DESC LIMIT 1) AS last_id`,
    [afterIdHex, limit],
  );
  const row = rows[0];
  return { events: Number(row?.events ?? 0), links: Number(row?.links ?? 0), lastIdHex: row?.last_id ?? null };
}

export async function dropExpiredEventTable(db: Database, expiredTable: string, lockTimeoutMs: number): Promise<boolean> {
  return withLockTimeout(db, lockTimeoutMs, async (tx) => {
    const { rows } = await tx.query<{ dropped: boolean }>('SELECT bigbrotr_drop_expired_event_table($1) AS dropped', [expiredTable]);
    return rows[0]?.dropped === true;
  });
}

/**
 * Ids of metadata documents first seen before `olderThan` that no check points to (checks in the
 * `ignoringPartitions` of relay_check are not counted: the dry run's view of what retention drops).
 */
const ORPHAN_CONDITION = `m.first_seen_at < $1::timestamptz
  AND NOT EXISTS (SELECT 1 FROM relay_check c WHERE c.metadata_id = m.id AND NOT c.tableoid = ANY($2::regclass[]))`;

export async function countOrphanMetadata(db: Queryable, olderThan: Date, ignoringPartitions: string[] = []): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*) AS n FROM metadata m WHERE ${ORPHAN_CONDITION}`, [
    olderThan.toISOString(),
    ignoringPartitions.map(quoteIdent),
  ]);
  return Number(rows[0]?.n ?? 0);
}

/**
 * Deletes up to `limit` orphan documents. Candidates are chosen without locks; the delete runs
 * after `LOCK TABLE metadata IN SHARE ROW EXCLUSIVE MODE`, which waits for every transaction that
 * inserted into metadata (the monitor inserts a document, then the check pointing at it, in one
 * transaction) and holds new ones back until this short transaction ends; the condition is checked
 * again under the lock, so a document that a check committed meanwhile points to is kept.
 * Returns how many were deleted and whether candidates were found.
 */
export async function deleteOrphanMetadataBatch(
  db: Database,
  olderThan: Date,
  limit: number,
  lockTimeoutMs: number,
): Promise<{ candidates: number; deleted: number }> {
  const { rows } = await db.query<{ id: string }>(`SELECT encode(m.id, 'hex') AS id FROM metadata m WHERE ${ORPHAN_CONDITION} LIMIT $3`, [
    olderThan.toISOString(),
    [],
    limit,
  ]);
  if (rows.length === 0) return { candidates: 0, deleted: 0 };
  const deleted = await withLockTimeout(db, lockTimeoutMs, async (tx) => {
    await tx.query('LOCK TABLE metadata IN SHARE ROW EXCLUSIVE MODE');
    const result = await tx.query(
      `DELETE FROM metadata m WHERE m.id = ANY(ARRAY(SELECT decode(x, 'hex') FROM unnest($3::text[]) AS x)) AND ${ORPHAN_CONDITION}`,
      [olderThan.toISOString(), [], rows.map((row) => row.id)],
    );
    return result.rowCount;
  });
  return { candidates: rows.length, deleted };
}

/** ANALYZE, without the connection's statement timeout (sampling a large archive takes a while). */
export async function analyzeTable(db: Database, table: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(`SELECT set_config('statement_timeout', '0', true)`);
    await tx.query('SELECT bigbrotr_analyze($1)', [table]);
  });
}
