import { describe, expect, it } from 'vitest';
import { applyHeapGrowth, heapGrowthFlag, startFreedMemoryRelease, stopFreedMemoryRelease } from '../../src/cli/embedded-memory.js';
import { loadConfig } from '../../src/config/loader.js';
import { loadNativeAddon } from '../../src/nostr/schnorr.js';

describe('heap growth with the embedded database', () => {
  it('sets V8 heap growth from the configuration on the embedded database only', () => {
    const embedded = loadConfig({ env: {} }).config.database;
    const calls: string[] = [];
    expect(applyHeapGrowth(embedded, (flags) => calls.push(flags))).toBe('--heap-growing-percent=20');
    expect(calls).toEqual(['--heap-growing-percent=20']);

    const tuned = loadConfig({ env: { BIGBROTR_DATABASE__EMBEDDED_HEAP_GROWTH_PERCENT: '35' } }).config.database;
    expect(heapGrowthFlag(tuned)).toBe('--heap-growing-percent=35');
    const off = loadConfig({ env: { BIGBROTR_DATABASE__EMBEDDED_HEAP_GROWTH_PERCENT: '0' } }).config.database;
    expect(heapGrowthFlag(off)).toBeUndefined();
    const server = loadConfig({ env: { BIGBROTR_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/x' } }).config.database;
    expect(applyHeapGrowth(server, (flags) => calls.push(flags))).toBeUndefined();
    expect(calls).toHaveLength(1);
  });

  it('refuses a growth V8 cannot use, naming the option', () => {
    expect(() => loadConfig({ env: { BIGBROTR_DATABASE__EMBEDDED_HEAP_GROWTH_PERCENT: '-5' } })).toThrow(
      /database\.embedded_heap_growth_percent/,
    );
    expect(() => loadConfig({ env: { BIGBROTR_DATABASE__EMBEDDED_HEAP_GROWTH_PERCENT: '1000' } })).toThrow(
      /database\.embedded_heap_growth_percent/,
    );
  });

  it('gives freed C memory back on a timer with the embedded database, once per process, never with a server', () => {
    const embedded = loadConfig({ env: {} }).config.database;
    let calls = 0;
    const release = () => {
      calls += 1;
      return true;
    };
    try {
      expect(startFreedMemoryRelease(embedded, release)).toBe('started');
      expect(calls).toBe(1); // once at start: tells whether it is supported
      expect(startFreedMemoryRelease(embedded, release)).toBe('running');
      expect(process.getActiveResourcesInfo()).toContain('Timeout');
    } finally {
      stopFreedMemoryRelease();
    }
    expect(startFreedMemoryRelease(embedded, null)).toBe('unsupported');
    expect(startFreedMemoryRelease(embedded, () => false)).toBe('unsupported');
    const server = loadConfig({ env: { BIGBROTR_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/x' } }).config.database;
    expect(startFreedMemoryRelease(server, release)).toBe('off');
    const off = loadConfig({ env: { BIGBROTR_DATABASE__EMBEDDED_RELEASE_MEMORY_MS: '0' } }).config.database;
    expect(startFreedMemoryRelease(off, release)).toBe('off');
    expect(calls).toBe(1);
  });

  it('the native addon releases freed memory where the C library is glibc', () => {
    const addon = loadNativeAddon();
    // In CI the addon is always built (.ci/run); on a machine without a C compiler there is none.
    if (!addon) {
      expect(process.env.CI).not.toBe('true');
      return;
    }
    const glibc = Boolean((process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime);
    expect(addon.releaseFreedMemory?.()).toBe(glibc);
  });
});
