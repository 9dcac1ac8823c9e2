/**
 * The filter limits every service uses with one relay: configuration, the relay's NIP-11
 * `limitation`, and what its refusals taught earlier passes (while that is younger than
 * `sync.limits_reprobe_seconds`), combined; and storing what a session learned.
 */
import type { Config } from '../config/schema.js';
import type { Queryable } from '../db/database.js';
import { knownLimitation } from '../db/relay-metadata.js';
import { readRelayLimits, saveLearnedLimits } from '../db/relay-limits.js';
import { RelayFilterLimits } from '../relay/filter-limits.js';

const below = (...values: (number | undefined)[]) => Math.min(...values.map((value) => value ?? Number.POSITIVE_INFINITY));

export async function loadFilterLimits(db: Queryable, relayId: number, config: Config, nowMs = Date.now()): Promise<RelayFilterLimits> {
  const [stored, stated] = await Promise.all([readRelayLimits(db, relayId), knownLimitation(db, relayId)]);
  const reprobeMs = config.sync.limits_reprobe_seconds * 1000;
  const learned = stored?.learnedAtMs !== undefined && nowMs - stored.learnedAtMs < reprobeMs ? stored : undefined;
  const countFresh = stored?.countCheckedAtMs !== undefined && nowMs - stored.countCheckedAtMs < reprobeMs;
  return new RelayFilterLimits({
    pageLimit: below(config.sync.page_limit, stated.maxLimit, learned?.maxLimit),
    maxKinds: below(config.sync.max_kinds_per_filter, learned?.maxKinds),
    maxAuthors: below(config.sync.max_authors_per_filter, learned?.maxAuthors),
    maxIds: below(config.sync.max_ids_per_filter, learned?.maxIds),
    maxFilters: below(config.sync.max_filters_per_request, stated.maxFilters, learned?.maxFilters),
    // Keep under the relay's stated message limit, with room for framing.
    maxRequestBytes: Math.max(
      1_024,
      below(config.sync.max_request_bytes, stated.maxMessageLength === undefined ? undefined : Math.floor(stated.maxMessageLength * 0.9)),
    ),
    requiresKinds: learned?.requiresKinds ?? false,
    ...(stated.maxLimit ? { statedMaxLimit: stated.maxLimit } : {}),
    largestPage: stored?.largestPage ?? 0,
    ...(countFresh && stored?.count ? { count: stored.count } : {}),
  });
}

/** Stores what this session learned (each change once). */
export async function saveFilterLimits(db: Queryable, relayId: number, limits: RelayFilterLimits): Promise<void> {
  await saveLearnedLimits(db, relayId, limits.takeLearned());
}
