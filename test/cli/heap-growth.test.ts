import { describe, expect, it } from 'vitest';
import { applyHeapGrowth, heapGrowthFlag } from '../../src/cli/heap-growth.js';
import { loadConfig } from '../../src/config/loader.js';

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
    expect(() => loadConfig({ env: { BIGBROTR_DATABASE__EMBEDDED_HEAP_GROWTH_PERCENT: '-5' } })).toThrow(/database\.embedded_heap_growth_percent/);
    expect(() => loadConfig({ env: { BIGBROTR_DATABASE__EMBEDDED_HEAP_GROWTH_PERCENT: '1000' } })).toThrow(/database\.embedded_heap_growth_percent/);
  });
});
