/**
 * Storage of the monitor's checks. Documents (NIP-11, DNS answers, certificates, geolocation,
 * requirements) are content-addressed: their id is sha256 of the type and the canonical JSON, so a
 * document seen by a thousand checks is stored once. Each check row points at the document it saw.
 */
import { createHash } from 'node:crypto';
import type { Database, Queryable } from './database.js';

export type CheckType = 'nip11' | 'open' | 'read' | 'write' | 'dns' | 'ssl' | 'geo' | 'requirements' | 'claims';

export interface CheckRecord {
  type: CheckType;
  checkedAt: Date;
  ok: boolean;
  rttMs?: number;
  /** Why the check failed (or the relay's refusal message). */
  reason?: string;
  /** The document the check saw, stored once however many checks see it. */
  document?: unknown;
  /** Facts of this check alone (TTL, days to expiry, reply prefix). */
  detail?: Record<string, unknown>;
}

/** JSON with object keys sorted at every level, so equal documents give equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
}

/** The content address of a document: sha256 over its type, a newline and its canonical JSON. */
export function documentId(type: string, canonical: string): string {
  return createHash('sha256').update(type).update('\n').update(canonical).digest('hex');
}

/** PostgreSQL text and jsonb cannot hold U+0000; relays do send it. */
function storableJson(text: string): string {
  return text.replace(/\\u0000/g, '\\ufffd');
}

/** Stores one relay's checks (and the documents they saw) in one transaction. */
export async function storeRelayChecks(db: Database | Queryable, relayId: number, checks: CheckRecord[]): Promise<void> {
  if (checks.length === 0) return;
  const rows = checks.map((check) => {
    const canonical = check.document === undefined ? undefined : storableJson(canonicalJson(check.document));
    return {
      check,
      documentId: canonical === undefined ? null : documentId(check.type, canonical),
      documentJson: canonical ?? null,
    };
  });
  const write = async (tx: Queryable) => {
    const documents = rows.filter((row) => row.documentId !== null);
    if (documents.length > 0) {
      await tx.query(
        `INSERT INTO metadata (id, type, data)
         SELECT decode(id_hex, 'hex'), type, data::jsonb FROM unnest($1::text[], $2::text[], $3::text[]) AS d(id_hex, type, data)
         ON CONFLICT (id) DO NOTHING`,
        [documents.map((row) => row.documentId), documents.map((row) => row.check.type), documents.map((row) => row.documentJson)],
      );
    }
    await tx.query(
      `INSERT INTO relay_check (relay_id, check_type, checked_at, ok, rtt_ms, reason, metadata_id, detail)
       SELECT $1, type, checked_at, ok, rtt_ms, reason, decode(id_hex, 'hex'), detail::jsonb
       FROM unnest($2::text[], $3::timestamptz[], $4::boolean[], $5::int[], $6::text[], $7::text[], $8::text[])
         AS c(type, checked_at, ok, rtt_ms, reason, id_hex, detail)`,
      [
        relayId,
        rows.map((row) => row.check.type),
        rows.map((row) => row.check.checkedAt.toISOString()),
        rows.map((row) => row.check.ok),
        rows.map((row) => (row.check.rttMs === undefined ? null : Math.max(0, Math.round(row.check.rttMs)))),
        rows.map((row) => (row.check.reason === undefined ? null : row.check.reason.replaceAll('\u0000', '\ufffd').slice(0, 500))),
        rows.map((row) => row.documentId),
        rows.map((row) => (row.check.detail === undefined ? null : storableJson(canonicalJson(row.check.detail)))),
      ],
    );
  };
  if ('transaction' in db) await db.transaction(write);
  else await write(db);
}

export interface DueRelay {
  id: number;
  url: string;
  network: 'clearnet' | 'tor' | 'i2p' | 'loki';
  discovered_from: string;
  /** When its NIP-11 claims were last probed successfully (null: never; a failed probe is retried at the next check). */
  claims_checked_at?: Date | string | null;
}

/**
 * Active relays whose last `open` check is older than `intervalSeconds` (never checked first, then
 * the longest unchecked), without those leased by another process or listed in `exclude` (the
 * relays this process already took in this pass or screening refused recently). Named `urls` are
 * returned whatever their state and schedule.
 */
export async function dueRelaysForMonitor(
  db: Queryable,
  options: { intervalSeconds: number; limit: number; service: string; urls?: string[]; exclude?: number[]; networks?: string[] },
): Promise<DueRelay[]> {
  const { rows } = await db.query<DueRelay>(
    `SELECT r.id, r.url, r.network, r.discovered_from, claims.checked_at AS claims_checked_at
     FROM relay r
     LEFT JOIN LATERAL (
       SELECT checked_at FROM relay_check c WHERE c.relay_id = r.id AND c.check_type = 'open' ORDER BY c.checked_at DESC LIMIT 1
     ) last ON true
     LEFT JOIN LATERAL (
       SELECT checked_at FROM relay_check c WHERE c.relay_id = r.id AND c.check_type = 'claims' AND c.ok ORDER BY c.checked_at DESC LIMIT 1
     ) claims ON true
     WHERE ($4::text[] IS NULL AND r.state = 'active' AND (last.checked_at IS NULL
                 OR last.checked_at < now() - make_interval(secs => $1::double precision))
            OR r.url = ANY($4::text[]))
       AND NOT EXISTS (SELECT 1 FROM service_lease l WHERE l.service = $3 AND l.resource = r.id::text AND l.expires_at > now())
       AND ($4::text[] IS NOT NULL OR NOT r.id = ANY($5::int[]))
       AND ($4::text[] IS NOT NULL OR r.network = ANY($6::text[]))
     ORDER BY last.checked_at NULLS FIRST, r.id
     LIMIT $2`,
    [
      options.intervalSeconds,
      options.limit,
      options.service,
      options.urls ?? null,
      options.exclude ?? [],
      options.networks ?? ['clearnet', 'tor', 'i2p', 'loki'],
    ],
  );
  return rows;
}

/**
 * Feeds the synchronizer's circuit breaker: a relay whose WebSocket does not open is benched like
 * after a failed sync (`monitor:` in the reason); when it opens again, a bench the monitor caused is
 * lifted at once (a bench caused by sync failures is left to the synchronizer).
 */
export async function liftMonitorBench(db: Queryable, relayId: number): Promise<void> {
  await db.query(
    `UPDATE relay_health SET benched_until = NULL, consecutive_failures = 0, last_success_at = now(), updated_at = now()
     WHERE relay_id = $1 AND last_error LIKE 'monitor:%' AND (benched_until IS NOT NULL OR consecutive_failures > 0)`,
    [relayId],
  );
}
