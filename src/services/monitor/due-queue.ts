/**
 * The relays one monitor pass checks, fetched a few at a time: due relays (or the operator's named
 * ones) are read from the database, leased, and handed out one by one to the workers; a relay taken
 * once in a pass is not taken again, nor one screening refused recently.
 */
import type { Config } from '../../config/schema.js';
import type { Database } from '../../db/database.js';
import { dueRelaysForMonitor, type DueRelay } from '../../db/relay-checks.js';
import { reachableNetworks } from '../../relay/overlay.js';
import { leaseRows } from '../work-pool.js';

export interface DueQueueOptions {
  db: Database;
  config: Config;
  service: string;
  owner: string;
  /** Check exactly these relays (normalised URLs), due or not. */
  urls?: string[];
  /** Relays not to take (screening refused them recently), asked at every refill. */
  refused: () => number[];
  signal?: AbortSignal;
}

/**
 * A `next` for runWorkers: the next leased relay, or undefined when none is due any more or the pass
 * is stopped. runWorkers calls it one worker at a time, so a refill is never run twice at once.
 */
export function dueRelayQueue(options: DueQueueOptions): () => Promise<DueRelay | undefined> {
  const { db, config } = options;
  const monitor = config.monitor;
  const queue: DueRelay[] = [];
  const seen = new Set<number>();
  let exhausted = false;
  const refill = async () => {
    const due = (
      await dueRelaysForMonitor(db, {
        intervalSeconds: monitor.interval_seconds,
        limit: monitor.concurrency * 2,
        service: options.service,
        urls: options.urls,
        exclude: [...seen, ...options.refused()],
        networks: reachableNetworks(config.relay),
      })
    ).filter((relay) => !seen.has(relay.id));
    if (due.length === 0) {
      exhausted = true;
      return;
    }
    const lease = { service: options.service, owner: options.owner, rows: due, limit: due.length, ttlMs: monitor.lease_seconds * 1000 };
    const leased = await leaseRows(db, lease);
    for (const relay of due) seen.add(relay.id);
    queue.push(...leased);
  };
  return async () => {
    while (queue.length === 0 && !exhausted && !options.signal?.aborted) await refill();
    return options.signal?.aborted ? undefined : queue.shift();
  };
}
