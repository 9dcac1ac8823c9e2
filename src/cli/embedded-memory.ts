/**
 * Memory housekeeping for a process that holds the embedded database (PGlite). Its WebAssembly
 * memory never shrinks, so what else the process holds decides whether it stays small:
 *   - V8's default heap growth lets a long sync pile up hundreds of megabytes of garbage (a sync of
 *     200,000 events peaked at 510-550 MB, of which the live JavaScript heap was about 90). A smaller
 *     growth factor makes V8 collect sooner; V8 reads the flag at every full collection, so setting it
 *     once the configuration is known takes effect for the rest of the process (workers too).
 *   - V8 mallocs and frees a lot while compiling (about 100 MB while PGlite's WebAssembly is compiled);
 *     glibc keeps much of what is freed. The native addon's `releaseFreedMemory` (malloc_trim) gives it
 *     back, on a timer. Without the addon (no C compiler at install) or off glibc, it is skipped.
 * Figures: docs/benchmarks.md (2026-12-03, night).
 */
import { setFlagsFromString } from 'node:v8';
import type { DatabaseConfig } from '../config/schema.js';
import { loadNativeAddon } from '../nostr/schnorr.js';

type EmbeddedMemoryConfig = Pick<DatabaseConfig, 'url' | 'embedded_heap_growth_percent' | 'embedded_release_memory_ms'>;

/** The V8 flag for the configured growth, or undefined when V8's default stays (PostgreSQL, or 0). */
export function heapGrowthFlag(database: Pick<DatabaseConfig, 'url' | 'embedded_heap_growth_percent'>): string | undefined {
  if (database.url || database.embedded_heap_growth_percent === 0) return undefined;
  return `--heap-growing-percent=${database.embedded_heap_growth_percent}`;
}

export function applyHeapGrowth(
  database: Pick<DatabaseConfig, 'url' | 'embedded_heap_growth_percent'>,
  setFlags: (flags: string) => void = setFlagsFromString,
): string | undefined {
  const flag = heapGrowthFlag(database);
  if (flag) setFlags(flag);
  return flag;
}

let releaseTimer: NodeJS.Timeout | undefined;

/**
 * Starts giving freed C memory back every `embedded_release_memory_ms` (once per process; the timer
 * never keeps the process alive). Returns what runs: 'started', 'running' (already), or why not.
 */
export function startFreedMemoryRelease(
  database: Pick<DatabaseConfig, 'url' | 'embedded_release_memory_ms'>,
  release: (() => boolean) | null = loadNativeAddon()?.releaseFreedMemory ?? null,
): 'started' | 'running' | 'off' | 'unsupported' {
  if (database.url || database.embedded_release_memory_ms === 0) return 'off';
  if (releaseTimer) return 'running';
  if (!release || !release()) return 'unsupported';
  releaseTimer = setInterval(release, database.embedded_release_memory_ms);
  releaseTimer.unref();
  return 'started';
}

export function stopFreedMemoryRelease(): void {
  if (releaseTimer) clearInterval(releaseTimer);
  releaseTimer = undefined;
}

/** Both, as the CLI applies them once the configuration is loaded. */
export function tuneEmbeddedMemory(database: EmbeddedMemoryConfig): void {
  applyHeapGrowth(database);
  startFreedMemoryRelease(database);
}
