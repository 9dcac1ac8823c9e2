/**
 * The synchronizer as a long-running service. `sync.concurrency` slots each take one due relay at a
 * time: leased (so several processes on one PostgreSQL never sync the same relay), passed with
 * retries, released. The first `sync.priority_slots` slots only take priority relays, so those always
 * have room; the other slots take priority relays first too. A database outage makes the slots wait
 * and try again (nothing is lost: a pass commits its cursor with its events); a relay that keeps
 * failing is benched by the circuit breaker with the reason. On stop, passes end after the batch in
 * flight is committed.
 */
import { reachableNetworks } from '../../relay/overlay.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../config/schema.js';
import type { Database } from '../../db/database.js';
import { DatabaseError } from '../../db/errors.js';
import { processOwnerId, releaseLeases, renewLeases } from '../../db/leases.js';
import { leaseRows, releaseLeasesQuietly } from '../work-pool.js';
import { recordRelayFailure, recordRelaySuccess } from '../../db/relay-health.js';
import { dueRelays, type DueRelay } from '../../db/sync-schedule.js';
import { relayLogger, type Logger } from '../../observability/logger.js';
import { relayUrlFilter } from '../../relay/url-patterns.js';
import { createVerifyPool, verifyPoolOptions, type VerifyPool } from '../../verify/pool.js';
import type { Service, ServiceOptions } from '../service.js';
import { syncRelayWithRetries } from './pass-runner.js';
import { passLogFields } from './pass-outcome.js';
import { createByteBudget, type ByteBudget } from './byte-budget.js';
import { loadPriorityRelays } from './priority-relays.js';
import { PassAbortedError } from './relay-sync.js';
import { errorMessage } from '../../error-message.js';

export const SYNC_SERVICE = 'sync';

function isDatabaseOutage(error: unknown): boolean {
  return error instanceof DatabaseError && error.isConnectionError;
}

export function createSyncService(options: ServiceOptions): Service {
  const processOwner = processOwnerId();
  // Fails at start-up (exit 2) on a bad priority URL or file.
  const priorityUrls = loadPriorityRelays(options.config());
  return {
    name: 'synchronizer',
    async run(signal) {
      const { db, logger } = options;
      const initial = options.config();
      const pool = await createVerifyPool(verifyPoolOptions(initial));
      const budget = createByteBudget(initial.sync.max_bytes_in_flight);
      // Reserved slots, but never all of them: other relays must still progress.
      const reserved = Math.min(initial.sync.priority_slots, Math.max(0, initial.sync.concurrency - 1));
      try {
        await Promise.all(
          Array.from({ length: initial.sync.concurrency }, (_, slot) =>
            runSlot({
              db,
              logger,
              config: options.config,
              pool,
              budget,
              signal,
              owner: `${processOwner}/${slot}`,
              priorityOnly: slot < reserved,
              priorityUrls,
              unreleased: [],
            }),
          ),
        );
      } finally {
        await pool.close();
      }
    },
  };
}

interface SlotOptions {
  db: Database;
  logger: Logger;
  config: () => Config;
  pool: VerifyPool;
  budget: ByteBudget;
  signal: AbortSignal;
  owner: string;
  priorityOnly: boolean;
  priorityUrls: string[];
  /** Leases whose release failed (database outage): released before the slot takes new work. */
  unreleased: string[];
}

async function nextRelay(slot: SlotOptions, config: Config): Promise<DueRelay | undefined> {
  const filter = relayUrlFilter(config.relay_url);
  const candidates = await dueRelays(slot.db, {
    intervalSeconds: config.sync.interval_seconds,
    limit: 8,
    service: SYNC_SERVICE,
    priorityUrls: slot.priorityUrls,
    priorityOnly: slot.priorityOnly,
    blacklist: filter.blacklist,
    whitelist: filter.whitelist,
    networks: reachableNetworks(config.relay),
  });
  if (candidates.length === 0) return undefined;
  const [leased] = await leaseRows(slot.db, {
    service: SYNC_SERVICE,
    owner: slot.owner,
    rows: candidates,
    limit: 1,
    ttlMs: config.sync.lease_seconds * 1000,
  });
  return leased;
}

async function runSlot(slot: SlotOptions): Promise<void> {
  const { db, logger, signal } = slot;
  let outageDelayMs = 0;
  while (!signal.aborted) {
    const config = slot.config();
    let relay: DueRelay | undefined;
    try {
      if (slot.unreleased.length > 0) {
        await releaseLeases(db, { service: SYNC_SERVICE, owner: slot.owner, resources: slot.unreleased });
        slot.unreleased = [];
      }
      relay = await nextRelay(slot, config);
      outageDelayMs = 0;
    } catch (error) {
      if (!isDatabaseOutage(error)) throw error;
      outageDelayMs = Math.min(config.sync.retry_max_delay_ms, Math.max(config.sync.retry_initial_delay_ms, outageDelayMs * 2));
      logger.warn({ err: error, retryInMs: outageDelayMs }, 'database unavailable; the synchronizer waits and tries again');
      await sleep(outageDelayMs * (0.5 + Math.random()), undefined, { signal }).catch(() => undefined);
      continue;
    }
    if (!relay) {
      await sleep(config.sync.idle_poll_seconds * 1000, undefined, { signal }).catch(() => undefined);
      continue;
    }
    await passOnce(slot, config, relay);
  }
  await releaseLeasesQuietly(db, { service: SYNC_SERVICE, owner: slot.owner }, logger);
}

async function passOnce(slot: SlotOptions, config: Config, relay: DueRelay): Promise<void> {
  const { db, pool, budget, signal, owner } = slot;
  const log = relayLogger(slot.logger, relay.url);
  const resources = [String(relay.id)];
  const ttlMs = config.sync.lease_seconds * 1000;
  const renewal = setInterval(() => {
    renewLeases(db, { service: SYNC_SERVICE, owner, resources, ttlMs }).catch((error: unknown) =>
      log.warn({ err: error }, 'lease renewal failed'),
    );
  }, ttlMs / 3);
  try {
    const result = await syncRelayWithRetries({ db, relay, config, pool, budget, logger: log, signal });
    await recordRelaySuccess(db, relay.id);
    log.info({ ...passLogFields(result), attempts: result.attempts }, 'relay pass done');
  } catch (error) {
    if (error instanceof PassAbortedError || signal.aborted) return;
    if (isDatabaseOutage(error)) {
      // Not the relay's fault: no circuit-breaker penalty; what was committed stays, the rest is redone.
      log.warn({ err: error }, 'relay pass stopped by a database outage; it resumes from its cursor');
      return;
    }
    if (error instanceof DatabaseError && error.isDatabaseFault) {
      // Disk full, a cancelled statement, a deadlock: the database's trouble, not the relay's; no bench.
      log.error({ err: error, code: error.code }, 'relay pass stopped by a database error; it resumes from its cursor');
      return;
    }
    log.warn({ err: error }, 'relay pass failed; its cursor keeps what was committed');
    await recordRelayFailure(db, relay.id, errorMessage(error), {
      baseSeconds: config.sync.failure_backoff_seconds,
      maxSeconds: config.sync.failure_backoff_max_seconds,
    }).catch((failure: unknown) =>
      // Must not replace the pass's own outcome (the slot goes on), nor go unseen: this failure then does not count towards a bench.
      log.warn({ err: failure }, 'could not record the relay failure; the circuit breaker does not count this one'),
    );
  } finally {
    clearInterval(renewal);
    // If the database is down the release fails: the slot retries it before taking new work, so the
    // relay is not locked out until the lease expires.
    await releaseLeases(db, { service: SYNC_SERVICE, owner, resources }).catch(() => slot.unreleased.push(...resources));
  }
}
