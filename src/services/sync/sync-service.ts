/**
 * The synchronizer as a long-running service: leases due relays (so several processes on one
 * PostgreSQL never sync the same relay), runs one pass per relay with bounded concurrency, renews
 * the leases while passes run, releases them, and sleeps when nothing is due. On stop, passes end
 * after their current page is committed.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../config/schema.js';
import type { Database } from '../../db/database.js';
import { acquireLeases, releaseLeases, renewLeases } from '../../db/leases.js';
import { dueRelays } from '../../db/sync-schedule.js';
import { recordRelayFailure, recordRelaySuccess } from '../../db/relay-health.js';
import { relayLogger, type Logger } from '../../observability/logger.js';
import { createVerifyPool } from '../../verify/pool.js';
import type { Service } from '../service.js';
import { PassAbortedError, syncRelayPass } from './relay-sync.js';

const SERVICE = 'sync';

export function createSyncService(options: { db: Database; config: () => Config; logger: Logger }): Service {
  const owner = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  return {
    name: 'synchronizer',
    async run(signal) {
      const { db, logger } = options;
      const pool = await createVerifyPool({ workers: options.config().verify.workers, batchSize: options.config().verify.batch_size });
      try {
        while (!signal.aborted) {
          const config = options.config();
          const candidates = await dueRelays(db, { intervalSeconds: config.sync.interval_seconds, limit: config.sync.concurrency * 4 });
          const byId = new Map(candidates.map((relay) => [String(relay.id), relay]));
          const leased = await acquireLeases(db, { service: SERVICE, owner, candidates: [...byId.keys()], limit: config.sync.concurrency, ttlMs: config.sync.lease_seconds * 1000 });
          if (leased.length === 0) {
            await sleep(config.sync.idle_poll_seconds * 1000, undefined, { signal }).catch(() => undefined);
            continue;
          }
          const renewal = setInterval(() => {
            renewLeases(db, { service: SERVICE, owner, resources: leased, ttlMs: config.sync.lease_seconds * 1000 }).catch((error: unknown) => logger.warn({ err: error }, 'lease renewal failed'));
          }, (config.sync.lease_seconds * 1000) / 3);
          try {
            await Promise.all(
              leased.map(async (resource) => {
                const relay = byId.get(resource);
                if (!relay) return;
                const log = relayLogger(logger, relay.url);
                try {
                  const result = await syncRelayPass({ db, relay, config, pool, logger: log, signal });
                  await recordRelaySuccess(db, relay.id);
                  log.info({ stored: result.stored, pages: result.report.pages, complete: result.report.complete }, 'relay pass done');
                } catch (error) {
                  if (error instanceof PassAbortedError) return;
                  log.warn({ err: error }, 'relay pass failed; its cursor keeps what was committed');
                  await recordRelayFailure(db, relay.id, (error as Error).message, {
                    baseSeconds: config.sync.failure_backoff_seconds,
                    maxSeconds: config.sync.failure_backoff_max_seconds,
                  }).catch(() => undefined);
                } finally {
                  await releaseLeases(db, { service: SERVICE, owner, resources: [resource] }).catch(() => undefined);
                }
              }),
            );
          } finally {
            clearInterval(renewal);
          }
        }
      } finally {
        await pool.close();
        await releaseLeases(db, { service: SERVICE, owner }).catch(() => undefined);
      }
    },
  };
}
