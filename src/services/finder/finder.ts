/**
 * The finder (archive source): scans newly archived events in archive order from a cursor, collects
 * the relay URLs they name (src/services/finder/extract.ts), normalises and screens them (malformed,
 * too long, not ws/wss, private or loopback literals, single-label and local names, black/whitelist:
 * each refusal counted by reason) and records them as candidates with their mention counts. The
 * validator probes them next; names that resolve to private addresses are refused there, after DNS.
 */
import { reachableNetworks } from '../../relay/overlay.js';
import { Counter } from 'prom-client';
import type { Config } from '../../config/schema.js';
import type { Database } from '../../db/database.js';
import type { Queryable } from '../../db/database.js';
import {
  archivedEventsAfter,
  readFinderCursor,
  recordRelayMentions,
  relaysForDirectScan,
  saveDirectScanPosition,
  saveFinderCursor,
  type RelayMention,
} from '../../db/finder.js';
import { paginateWindow } from '../../relay/paginate.js';
import { loadFilterLimits, saveFilterLimits } from '../relay-filter-limits.js';
import { openRelaySession, relayResolver } from '../relay-session.js';
import type { RelaySession } from '../../relay/session.js';
import type { RelayFilterLimits } from '../../relay/filter-limits.js';
import { fetchExternalList } from './external-list.js';
import { isLocalName } from '../../nostr/addresses.js';
import { normalizeRelayUrl } from '../../nostr/relay-url.js';
import { relayLogger, type Logger } from '../../observability/logger.js';
import { metricsRegistry } from '../../observability/metrics.js';
import { relayUrlFilter } from '../../relay/url-patterns.js';
import { acquireLeases, processOwnerId } from '../../db/leases.js';
import { releaseLeasesQuietly } from '../work-pool.js';
import { periodicService, type Service, type ServiceOptions } from '../service.js';
import { relayMentions } from './extract.js';
import { errorMessage } from '../../error-message.js';

const ARCHIVE_CURSOR = 'archive';

export interface FindSummary {
  /** Archived events scanned. */
  scanned: number;
  /** URLs found, by where: event sources (archive), `relay:<source>` (asked directly), `list`. */
  mentions: Record<string, number>;
  /** New candidates by where they were first found. */
  newBySource: Record<string, number>;
  newCandidates: number;
  revived: number;
  refused: Record<string, number>;
  relaysAsked: number;
  listsFetched: number;
  /** Relays or lists that could not be read, with why. */
  errors: { source: string; error: string }[];
}

type Grouped = Map<string, Map<string, RelayMention>>;

/** Normalises and screens mentioned URLs, counting refusals; groups the accepted ones by source. */
function screenMentions(mentions: { source: string; text: string }[], config: Config, summary: FindSummary, grouped: Grouped): void {
  const filter = relayUrlFilter(config.relay_url);
  for (const mention of mentions) {
    summary.mentions[mention.source] = (summary.mentions[mention.source] ?? 0) + 1;
    finderMetrics().mentions.inc({ source: mention.source });
    const normalized = normalizeRelayUrl(mention.text, { maxLength: config.relay_url.max_length });
    let refusal: string | undefined;
    if (!normalized.ok) refusal = normalized.reason;
    else if (normalized.network === 'clearnet' && isLocalName(normalized.host) && !config.relay_url.allow_private) refusal = 'local-name';
    else if (normalized.isPrivateLiteral && !config.relay_url.allow_private) refusal = 'private-address';
    else refusal = filter.refusal(normalized.url);
    if (refusal !== undefined || !normalized.ok) {
      const reason = refusal ?? 'malformed';
      summary.refused[reason] = (summary.refused[reason] ?? 0) + 1;
      finderMetrics().refused.inc({ reason });
      continue;
    }
    const group = grouped.get(mention.source) ?? new Map<string, RelayMention>();
    grouped.set(mention.source, group);
    const known = group.get(normalized.url);
    if (known) known.count += 1;
    else group.set(normalized.url, { url: normalized.url, network: normalized.network, count: 1 });
  }
}

async function recordGrouped(db: Queryable, grouped: Grouped, sourcePrefix: string, config: Config, summary: FindSummary): Promise<void> {
  for (const [source, group] of grouped) {
    const origin = `${sourcePrefix}${source}`;
    const recorded = await recordRelayMentions(db, [...group.values()], origin, config.finder.revive_after_seconds);
    summary.newCandidates += recorded.inserted;
    summary.revived += recorded.revived;
    if (recorded.inserted > 0) summary.newBySource[origin] = (summary.newBySource[origin] ?? 0) + recorded.inserted;
    finderMetrics().candidates.inc({ source: origin }, recorded.inserted);
  }
}

export function emptyFindSummary(): FindSummary {
  return {
    scanned: 0,
    mentions: {},
    newBySource: {},
    newCandidates: 0,
    revived: 0,
    refused: {},
    relaysAsked: 0,
    listsFetched: 0,
    errors: [],
  };
}

let metrics: ReturnType<typeof createMetrics> | undefined;
function finderMetrics(): ReturnType<typeof createMetrics> {
  metrics ??= createMetrics();
  return metrics;
}
/** Help of bigbrotr_finder_mentions_total: the sources a relay URL can come from. */
const MENTIONS_HELP =
  'Relay URLs found, by source (nip65, relay-list, contacts, hint, nip66 in archived events; ' +
  'relay:nip65, relay:nip66 asked directly; list).';

function createMetrics() {
  const registers = [metricsRegistry()];
  return {
    mentions: new Counter({
      name: 'bigbrotr_finder_mentions_total',
      help: MENTIONS_HELP,
      labelNames: ['source'],
      registers,
    }),
    refused: new Counter({
      name: 'bigbrotr_finder_refused_total',
      help: 'Mentioned URLs refused by screening, by reason.',
      labelNames: ['reason'],
      registers,
    }),
    candidates: new Counter({
      name: 'bigbrotr_finder_new_candidates_total',
      help: 'Relay URLs new to the archive, added as candidates, by where they were first found.',
      labelNames: ['source'],
      registers,
    }),
  };
}

/** What a finder step works with; `summary` collects the counts of a whole round across its steps. */
export interface FindOptions {
  db: Database;
  config: Config;
  logger: Logger;
  signal?: AbortSignal;
  summary?: FindSummary;
}

/** Scans events archived since the last scan. */
export async function findFromArchive(options: FindOptions): Promise<FindSummary> {
  const { db, config } = options;
  const summary = options.summary ?? emptyFindSummary();
  let cursor = await readFinderCursor(db, ARCHIVE_CURSOR);
  while (!options.signal?.aborted) {
    const rows = await archivedEventsAfter(db, cursor, config.finder.batch_size, config.finder.scan_lag_seconds);
    if (rows.length === 0) break;
    const grouped: Grouped = new Map();
    screenMentions(
      rows.flatMap((row) => relayMentions(row)),
      config,
      summary,
      grouped,
    );
    const last = rows[rows.length - 1] as (typeof rows)[number];
    const position = { at: last.archived_at, id: last.id };
    await db.transaction(async (tx) => {
      await recordGrouped(tx, grouped, 'event:', config, summary);
      await saveFinderCursor(tx, ARCHIVE_CURSOR, position);
    });
    summary.scanned += rows.length;
    cursor = position;
  }
  return summary;
}

const DIRECT_KINDS = [10002, 30166];

type DirectScanRelay = Awaited<ReturnType<typeof relaysForDirectScan>>[number];

/**
 * Pages through a relay's kinds 10002 and 30166 from its scan position to `until`, collecting the
 * URLs they name; `complete` says whether the window was proven (only then may the position move).
 */
async function readDirectMentions(
  session: RelaySession,
  relay: DirectScanRelay,
  window: { until: number; limits: RelayFilterLimits },
  config: Config,
  log: Logger,
): Promise<{ complete: boolean; mentions: { source: string; text: string }[] }> {
  const mentions: { source: string; text: string }[] = [];
  const report = await paginateWindow(
    session.fetchPage,
    {
      since: relay.scannedUntil ?? config.sync.since,
      until: window.until,
      kinds: DIRECT_KINDS,
      limits: window.limits,
      maxRequests: config.finder.relay_scan_max_pages,
      deadline: Date.now() + config.sync.pass_time_budget_seconds * 1000,
      countEvents: session.count,
      onProblem: (problem) =>
        log.info(
          { reason: problem.reason, detail: problem.detail, ...(problem.filter ? { filter: problem.filter } : {}) },
          'finder scan of this relay is not proven complete',
        ),
    },
    async (events) => {
      for (const event of events)
        for (const mention of relayMentions(event)) mentions.push({ source: `relay:${mention.source}`, text: mention.text });
    },
  );
  return { complete: report.complete, mentions };
}

/** Asks one relay for the URLs it knows of and records them with its new scan position. */
async function scanRelay(
  options: { db: Database; config: Config; signal?: AbortSignal },
  relay: DirectScanRelay,
  summary: FindSummary,
  log: Logger,
): Promise<void> {
  const { db, config } = options;
  const until = Math.floor(Date.now() / 1000);
  // The same discipline as the synchronizer: only a proven window moves the scan position.
  const limits = await loadFilterLimits(db, relay.id, config);
  const session = await openRelaySession(relay.url, config, log, {
    trusted: relay.trusted,
    ...(options.signal ? { signal: options.signal } : {}),
    maxReconnects: 0,
  });
  try {
    const { complete, mentions } = await readDirectMentions(session, relay, { until, limits }, config, log);
    const grouped: Grouped = new Map();
    screenMentions(mentions, config, summary, grouped);
    await db.transaction(async (tx) => {
      await recordGrouped(tx, grouped, '', config, summary);
      // Not proven (refused, unanswered, budget): the next round starts over the same window.
      if (complete) await saveDirectScanPosition(tx, relay.id, until);
    });
    summary.relaysAsked += 1;
  } finally {
    session.close();
    await saveFilterLimits(db, relay.id, limits).catch((error: unknown) =>
      log.warn({ err: error }, "could not store the relay's learned filter limits"),
    );
  }
}

/** Asks active relays (those asked longest ago first) for kinds 10002 and 30166 since their last scan. */
export async function findFromRelays(options: FindOptions): Promise<FindSummary> {
  const { db, config } = options;
  const summary = options.summary ?? emptyFindSummary();
  const filter = relayUrlFilter(config.relay_url);
  const relays = (await relaysForDirectScan(db, config.finder.relays_per_round, reachableNetworks(config.relay))).filter((relay) =>
    filter.allows(relay.url),
  );
  for (const relay of relays) {
    if (options.signal?.aborted) break;
    const log = relayLogger(options.logger, relay.url);
    try {
      await scanRelay(options, relay, summary, log);
    } catch (error) {
      summary.errors.push({ source: relay.url, error: errorMessage(error) });
      // Keep its position but move it to the back of the queue, so failing relays do not starve the others.
      // Not a lease release: a failure here leaves the relay where it was in the queue, and its error is already in the summary.
      await saveDirectScanPosition(db, relay.id, relay.scannedUntil ?? config.sync.since).catch(() => undefined);
      log.debug({ err: error }, 'finder could not ask this relay');
    }
  }
  return summary;
}

/** Fetches every configured external list. */
export async function findFromLists(options: Omit<FindOptions, 'signal'>): Promise<FindSummary> {
  const { db, config } = options;
  const summary = options.summary ?? emptyFindSummary();
  for (const listUrl of config.finder.external_lists) {
    try {
      const entries = await fetchExternalList(listUrl, {
        timeoutMs: config.finder.external_list_timeout_ms,
        maxBytes: config.finder.external_list_max_bytes,
        allowPrivate: config.relay_url.allow_private,
        resolver: relayResolver(config),
      });
      const grouped: Grouped = new Map();
      screenMentions(
        entries.map((text) => ({ source: 'list', text })),
        config,
        summary,
        grouped,
      );
      await db.transaction((tx) => recordGrouped(tx, grouped, '', config, summary));
      summary.listsFetched += 1;
    } catch (error) {
      summary.errors.push({ source: listUrl, error: errorMessage(error) });
      options.logger.warn({ list: listUrl, err: error }, 'external relay list not read');
    }
  }
  return summary;
}

/** One finder round: the archive, then relays asked directly, then external lists. */
export async function findOnce(options: Omit<FindOptions, 'summary'>): Promise<FindSummary> {
  const summary = emptyFindSummary();
  await findFromArchive({ ...options, summary });
  if (options.config.finder.relay_scan) await findFromRelays({ ...options, summary });
  await findFromLists({ ...options, summary });
  return summary;
}

/** One finder round at a time across processes: the archive scan's cursor and mention counts are shared. */
const FINDER_ROUND_LEASE = { service: 'find', resource: 'round', ttlMs: 30 * 60_000 };

export function createFinderService(options: ServiceOptions): Service {
  const owner = processOwnerId();
  return periodicService(options, {
    name: 'finder',
    intervalSeconds: (config) => config.finder.interval_seconds,
    round: async (config, signal) => {
      const leased = await acquireLeases(options.db, {
        service: FINDER_ROUND_LEASE.service,
        owner,
        candidates: [FINDER_ROUND_LEASE.resource],
        limit: 1,
        ttlMs: FINDER_ROUND_LEASE.ttlMs,
      });
      if (leased.length === 0) {
        options.logger.debug('another process runs the finder round; skipping this one');
        return;
      }
      try {
        const summary = await findOnce({ db: options.db, config, logger: options.logger, signal });
        if (summary.scanned > 0 || summary.newCandidates > 0)
          options.logger.info(
            {
              scanned: summary.scanned,
              relaysAsked: summary.relaysAsked,
              listsFetched: summary.listsFetched,
              newCandidates: summary.newCandidates,
              refused: summary.refused,
            },
            'finder round done',
          );
      } finally {
        await releaseLeasesQuietly(options.db, { service: FINDER_ROUND_LEASE.service, owner, resources: leased }, options.logger);
      }
    },
  });
}
