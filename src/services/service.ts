import type { Config } from '../config/schema.js';

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
