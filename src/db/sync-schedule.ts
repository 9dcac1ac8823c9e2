/** Which relays the synchronizer should visit next. */
import type { Queryable } from './database.js';
import { OPERATOR_SOURCES } from './relays.js';

export interface DueRelay {
  id: number;
  url: string;
  priority: boolean;
  /** Named by the operator (seed file, config, --relay): any address accepted. */
  trusted: boolean;
}

export interface DueRelayOptions {
  intervalSeconds: number;
  limit: number;
  /** The service whose live leases exclude a relay (held by another worker). */
  service: string;
  /** Normalised URLs of priority relays: they come first. */
  priorityUrls: string[];
  /** Only priority relays (a reserved slot). */
  priorityOnly: boolean;
  /** Regular expressions (src/relay/url-patterns.ts): a relay matching any blacklist entry is never due. */
  blacklist: string[];
  /** When not empty, only relays matching one of these are due. */
  whitelist: string[];
  /** Only relays of these networks (those this process has a route to); default: every network. */
  networks?: string[];
}

/**
 * Active relays whose last pass ended more than `intervalSeconds` ago, or that owe a window due for
 * another try (an interrupted pass leaves its remainder owed and due at once). Priority relays first;
 * then relays never synchronised (a window that can never be proven, such as a crowded second on a
 * capped relay without COUNT, is due again after every backoff and must not keep a new relay
 * waiting: the network benchmark saw 6 of 95 relays never visited); then relays owing a window;
 * then the longest unvisited. Skipped: relays the circuit breaker has
 * benched, relays another worker holds a live lease on, and relays the black/whitelist excludes.
 */
export async function dueRelays(db: Queryable, options: DueRelayOptions): Promise<DueRelay[]> {
  const { rows } = await db.query<DueRelay>(
    `SELECT r.id, r.url, r.url = ANY($3::text[]) AS priority, r.discovered_from = ANY($8::text[]) AS trusted FROM relay r
     LEFT JOIN sync_cursor c ON c.relay_id = r.id AND c.scope = 'all'
     LEFT JOIN relay_health h ON h.relay_id = r.id
     WHERE r.state = 'active'
       AND (h.benched_until IS NULL OR h.benched_until <= now())
       AND (c.updated_at IS NULL OR c.pass_until IS NOT NULL OR c.updated_at <= now() - make_interval(secs => $1::double precision)
            OR EXISTS (SELECT 1 FROM sync_gap g WHERE g.relay_id = r.id AND g.next_try_at <= now()))
       AND NOT EXISTS (SELECT 1 FROM service_lease l WHERE l.service = $4 AND l.resource = r.id::text AND l.expires_at > now())
       AND NOT (r.url ~ ANY($5::text[]))
       AND (cardinality($6::text[]) = 0 OR r.url ~ ANY($6::text[]))
       AND (NOT $7::boolean OR r.url = ANY($3::text[]))
       AND r.network = ANY($9::text[])
     ORDER BY priority DESC, c.updated_at IS NOT NULL,
              NOT EXISTS (SELECT 1 FROM sync_gap g WHERE g.relay_id = r.id AND g.next_try_at <= now()), c.updated_at, r.id
     LIMIT $2`,
    [
      options.intervalSeconds,
      options.limit,
      options.priorityUrls,
      options.service,
      options.blacklist,
      options.whitelist,
      options.priorityOnly,
      OPERATOR_SOURCES,
      options.networks ?? ['clearnet', 'tor', 'i2p', 'loki'],
    ],
  );
  return rows;
}
