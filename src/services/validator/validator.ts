/**
 * The validator: candidate relays are screened (black/whitelist, private addresses after DNS) and
 * probed (WebSocket + one REQ); one that answers like a relay becomes active, one refused by
 * screening is retired at once, one that fails is tried again with backoff and retired after
 * `validator.max_attempts` failures spanning `validator.retire_after_seconds`. Candidates are leased,
 * so several processes on one PostgreSQL never probe the same one.
 */
import { reachableNetworks } from '../../relay/overlay.js';
import { OPERATOR_SOURCES } from '../../db/relays.js';
import type { Config } from '../../config/schema.js';
import type { Database } from '../../db/database.js';
import { processOwnerId } from '../../db/leases.js';
import { forEachBounded, leaseRows, releaseLeasesQuietly } from '../work-pool.js';
import { dueCandidates, promoteCandidate, recordProbeFailure, retireRelay, type DueCandidate } from '../../db/relay-validation.js';
import { relayLogger, type Logger } from '../../observability/logger.js';
import { probeRelay } from '../../relay/probe.js';
import { createResolver, screenRelayUrl } from '../../relay/screen.js';
import { relayUrlFilter } from '../../relay/url-patterns.js';
import { periodicService, type Service, type ServiceOptions } from '../service.js';
import { validatorMetrics } from './metrics.js';

export const VALIDATOR_SERVICE = 'validate';
/** Sources the operator controls: their relays may be on private addresses (docs/decisions.md, 6). */
const TRUSTED_SOURCES = new Set(OPERATOR_SOURCES);

export interface ValidationSummary {
  probed: number;
  promoted: string[];
  failed: { url: string; reason: string; attempts: number }[];
  retired: string[];
  refused: { url: string; reason: string }[];
}

async function validateCandidate(
  db: Database,
  config: Config,
  candidate: DueCandidate,
  summary: ValidationSummary,
  logger: Logger,
  resolver: ReturnType<typeof createResolver>,
): Promise<void> {
  const metrics = validatorMetrics();
  const log = relayLogger(logger, candidate.url);
  summary.probed += 1;
  const screened = await screenRelayUrl(candidate.url, {
    filter: relayUrlFilter(config.relay_url),
    trusted: TRUSTED_SOURCES.has(candidate.discovered_from),
    allowPrivate: config.relay_url.allow_private,
    resolver,
  });
  if (!screened.ok && screened.refusal) {
    await retireRelay(db, candidate.id, `refused: ${screened.refusal}: ${screened.detail}`);
    summary.refused.push({ url: candidate.url, reason: screened.refusal });
    summary.retired.push(candidate.url);
    metrics.probes.inc({ outcome: 'refused' });
    metrics.refused.inc({ reason: screened.refusal });
    metrics.retired.inc();
    log.info({ reason: screened.refusal, detail: screened.detail }, 'candidate refused by screening; retired');
    return;
  }
  const probe = screened.ok
    ? await probeRelay(candidate.url, config.relay, config.validator.probe_timeout_ms, screened.addresses)
    : { ok: false as const, reason: screened.detail };
  if (probe.ok) {
    await promoteCandidate(db, candidate.id);
    summary.promoted.push(candidate.url);
    metrics.probes.inc({ outcome: 'promoted' });
    log.info({ answer: probe.answer, openMs: probe.openMs, readMs: probe.readMs }, 'candidate answers like a relay; active');
    return;
  }
  const failure = await recordProbeFailure(db, candidate.id, probe.reason, {
    backoffSeconds: config.validator.retry_backoff_seconds,
    backoffMaxSeconds: config.validator.retry_backoff_max_seconds,
    maxAttempts: config.validator.max_attempts,
    retireAfterSeconds: config.validator.retire_after_seconds,
  });
  summary.failed.push({ url: candidate.url, reason: probe.reason, attempts: failure.attempts });
  metrics.probes.inc({ outcome: 'failed' });
  if (failure.retired) {
    summary.retired.push(candidate.url);
    metrics.retired.inc();
    log.info({ attempts: failure.attempts, reason: probe.reason }, 'candidate kept failing; retired');
  } else log.debug({ attempts: failure.attempts, reason: probe.reason }, 'candidate probe failed; will retry');
}

/** Probes every candidate due now (in waves of `validator.concurrency`) and returns what happened. */
export async function validateDue(options: {
  db: Database;
  config: Config;
  logger: Logger;
  owner?: string;
  signal?: AbortSignal;
}): Promise<ValidationSummary> {
  const { db, config, logger } = options;
  const owner = options.owner ?? processOwnerId();
  const summary: ValidationSummary = { probed: 0, promoted: [], failed: [], retired: [], refused: [] };
  const resolver = createResolver(config.validator.dns_servers, config.validator.probe_timeout_ms);
  const seen = new Set<number>();
  while (!options.signal?.aborted) {
    const due = (
      await dueCandidates(db, {
        limit: config.validator.concurrency * 2,
        service: VALIDATOR_SERVICE,
        networks: reachableNetworks(config.relay),
      })
    ).filter((candidate) => !seen.has(candidate.id));
    if (due.length === 0) break;
    const leased = await leaseRows(db, {
      service: VALIDATOR_SERVICE,
      owner,
      rows: due,
      limit: config.validator.concurrency,
      ttlMs: config.validator.probe_timeout_ms * 3 + 30_000,
    });
    if (leased.length === 0) break;
    try {
      await forEachBounded(leased, config.validator.concurrency, async (candidate) => {
        seen.add(candidate.id);
        await validateCandidate(db, config, candidate, summary, logger, resolver);
      });
    } finally {
      const resources = leased.map((candidate) => String(candidate.id));
      await releaseLeasesQuietly(db, { service: VALIDATOR_SERVICE, owner, resources }, logger);
    }
  }
  return summary;
}

export function createValidatorService(options: ServiceOptions): Service {
  const owner = processOwnerId();
  return periodicService(options, {
    name: 'validator',
    intervalSeconds: (config) => config.validator.idle_poll_seconds,
    round: async (config, signal) => {
      const summary = await validateDue({ db: options.db, config, logger: options.logger, owner, signal });
      if (summary.probed > 0)
        options.logger.info(
          { probed: summary.probed, promoted: summary.promoted.length, failed: summary.failed.length, retired: summary.retired.length },
          'validation round done',
        );
    },
  });
}
