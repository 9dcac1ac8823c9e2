import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/schema.js';
import type { Database } from '../db/database.js';
import type { Logger } from '../observability/logger.js';

/** What `bigbrotr run` gives every service: the database it writes to, the live config, its logger. */
export interface ServiceOptions {
  db: Database;
  /** The current config: a reload (SIGHUP) changes what it returns. */
  config: () => Config;
  logger: Logger;
}

/**
 * A long-running part of bigbrotr (seeder, synchronizer, monitor, …). `run` resolves when the service
 * has stopped; it must watch `signal` and stop promptly (finish or abandon its batch, never half-write).
 */
export interface Service {
  readonly name: string;
  run(signal: AbortSignal): Promise<void>;
  /** Applies a reloaded config (SIGHUP). Restart-only options are already held back by the caller. */
  reload?(config: Config): void;
}

/**
 * A service that runs `round` every `intervalSeconds` (read from the current config each time) until
 * stopped; a failed round is logged and retried at the next interval.
 */
export function periodicService(
  service: Pick<ServiceOptions, 'config' | 'logger'>,
  round: {
    name: string;
    intervalSeconds: (config: Config) => number;
    round: (config: Config, signal: AbortSignal) => Promise<void>;
  },
): Service {
  const options = { ...service, ...round };
  return {
    name: options.name,
    async run(signal) {
      while (!signal.aborted) {
        const config = options.config();
        try {
          await options.round(config, signal);
        } catch (error) {
          options.logger.warn({ err: error }, `${options.name} round failed; retrying later`);
        }
        await sleep(options.intervalSeconds(config) * 1000, undefined, { signal }).catch(() => undefined);
      }
    },
  };
}
