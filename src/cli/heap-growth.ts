/**
 * The embedded database (PGlite) lives in this process, with WebAssembly memory that never shrinks;
 * V8's default heap growth then lets a long sync hold hundreds of megabytes of garbage beside it
 * (a sync of 200,000 events peaked at 510-550 MB, of which the live JavaScript heap was about 90).
 * A smaller growth factor makes V8 collect sooner. V8 reads this flag at every full collection, so
 * setting it once the configuration is known takes effect for the rest of the process (workers too).
 */
import { setFlagsFromString } from 'node:v8';
import type { DatabaseConfig } from '../config/schema.js';

/** The V8 flag for the configured growth, or undefined when V8's default stays (PostgreSQL, or 0). */
export function heapGrowthFlag(database: Pick<DatabaseConfig, 'url' | 'embedded_heap_growth_percent'>): string | undefined {
  if (database.url || database.embedded_heap_growth_percent === 0) return undefined;
  return `--heap-growing-percent=${database.embedded_heap_growth_percent}`;
}

export function applyHeapGrowth(database: Pick<DatabaseConfig, 'url' | 'embedded_heap_growth_percent'>, setFlags: (flags: string) => void = setFlagsFromString): string | undefined {
  const flag = heapGrowthFlag(database);
  if (flag) setFlags(flag);
  return flag;
}
