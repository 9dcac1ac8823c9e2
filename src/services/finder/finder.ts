/**
 * The finder (archive source): scans newly archived events in archive order from a cursor, collects
 * the relay URLs they name (src/services/finder/extract.ts), normalises and screens them (malformed,
 * too long, not ws/wss, private or loopback literals, black/whitelist: each refusal counted by
 * reason) and records them as candidates with their mention counts. The validator probes them next;
 * names that resolve to private addresses are refused there, after DNS.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Counter } from 'prom-client';
import type { Config } from '../../config/schema.js';
import type { Database } from '../../db/database.js';
import { archivedEventsAfter, readFinderCursor, recordRelayMentions, saveFinderCursor, type RelayMention } from '../../db/finder.js';
import { normalizeRelayUrl } from '../../nostr/relay-url.js';
import type { Logger } from '../../observability/logger.js';
import { metricsRegistry } from '../../observability/metrics.js';
import { relayUrlFilter } from '../../relay/url-patterns.js';
import type { Service } from '../service.js';
import { relayMentions, type MentionSource } from './extract.js';

const CURSOR = 'archive';

export interface FindSummary {
  scanned: number;
  mentions: Partial<Record<MentionSource, number>>;
  newCandidates: number;
  revived: number;
  refused: Record<string, number>;
}

let metrics: ReturnType<typeof createMetrics> | undefined;
function createMetrics() {
  const registers = [metricsRegistry()];
  return {
    mentions: new Counter({ name: 'bigbrotr_finder_mentions_total', help: 'Relay URLs found in archived events, by source (nip65, relay-list, contacts, hint, nip66).', labelNames: ['source'], registers }),
    refused: new Counter({ name: 'bigbrotr_finder_refused_total', help: 'Mentioned URLs refused by screening, by reason.', labelNames: ['reason'], registers }),
    candidates: new Counter({ name: 'bigbrotr_finder_new_candidates_total', help: 'Relay URLs new to the archive, added as candidates.', registers }),
  };
}

export async function findFromArchive(options: { db: Database; config: Config; logger: Logger; signal?: AbortSignal }): Promise<FindSummary> {
  const { db, config } = options;
  metrics ??= createMetrics();
  const filter = relayUrlFilter(config.relay_url);
  const summary: FindSummary = { scanned: 0, mentions: {}, newCandidates: 0, revived: 0, refused: {} };
  const refuse = (reason: string) => {
    summary.refused[reason] = (summary.refused[reason] ?? 0) + 1;
    metrics?.refused.inc({ reason });
  };
  let cursor = await readFinderCursor(db, CURSOR);
  while (!options.signal?.aborted) {
    const rows = await archivedEventsAfter(db, cursor, config.finder.batch_size, config.finder.scan_lag_seconds);
    if (rows.length === 0) break;
    const bySource = new Map<MentionSource, Map<string, RelayMention>>();
    for (const row of rows) {
      for (const mention of relayMentions(row)) {
        summary.mentions[mention.source] = (summary.mentions[mention.source] ?? 0) + 1;
        metrics.mentions.inc({ source: mention.source });
        const normalized = normalizeRelayUrl(mention.text, { maxLength: config.relay_url.max_length });
        if (!normalized.ok) {
          refuse(normalized.reason);
          continue;
        }
        if (normalized.isPrivateLiteral && !config.relay_url.allow_private) {
          refuse('private-address');
          continue;
        }
        if (!filter.allows(normalized.url)) {
          refuse('blacklisted');
          continue;
        }
        const group = bySource.get(mention.source) ?? new Map<string, RelayMention>();
        bySource.set(mention.source, group);
        const known = group.get(normalized.url);
        if (known) known.count += 1;
        else group.set(normalized.url, { url: normalized.url, network: normalized.network, count: 1 });
      }
    }
    const last = rows[rows.length - 1] as (typeof rows)[number];
    const position = { at: last.archived_at, id: last.id };
    await db.transaction(async (tx) => {
      for (const [source, group] of bySource) {
        const recorded = await recordRelayMentions(tx, [...group.values()], `event:${source}`, config.finder.revive_after_seconds);
        summary.newCandidates += recorded.inserted;
        summary.revived += recorded.revived;
      }
      await saveFinderCursor(tx, CURSOR, position);
    });
    summary.scanned += rows.length;
    cursor = position;
  }
  metrics.candidates.inc(summary.newCandidates);
  return summary;
}

export function createFinderService(options: { db: Database; config: () => Config; logger: Logger }): Service {
  return {
    name: 'finder',
    async run(signal) {
      while (!signal.aborted) {
        const config = options.config();
        try {
          const summary = await findFromArchive({ db: options.db, config, logger: options.logger, signal });
          if (summary.scanned > 0) options.logger.info({ scanned: summary.scanned, newCandidates: summary.newCandidates, refused: summary.refused }, 'archive scanned for relay URLs');
        } catch (error) {
          options.logger.warn({ err: error }, 'finder scan failed; retrying later');
        }
        await sleep(config.finder.interval_seconds * 1000, undefined, { signal }).catch(() => undefined);
      }
    },
  };
}
