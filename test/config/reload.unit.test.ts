import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loader.js';
import { diffConfig, mergeReloaded } from '../../src/config/reload.js';

describe('config reload', () => {
  it('separates live options from restart-only ones and keeps the old restart-only values', () => {
    const before = loadConfig({ env: {} }).config;
    const after = loadConfig({
      env: { BIGBROTR_LOG_LEVEL: 'debug', BIGBROTR_HTTP__PORT: '1234', BIGBROTR_DATABASE__POOL_SIZE: '3' },
    }).config;
    const changes = diffConfig(before, after);
    expect(changes.applied).toEqual(['log.level']);
    expect(changes.restartRequired.sort()).toEqual(['database.pool_size', 'http.port']);
    const merged = mergeReloaded(before, after);
    expect(merged.log.level).toBe('debug');
    expect(merged.http.port).toBe(before.http.port);
    expect(merged.database.pool_size).toBe(before.database.pool_size);
  });

  it('reports nothing when nothing changed', () => {
    const config = loadConfig({ env: {} }).config;
    expect(diffConfig(config, structuredClone(config))).toEqual({ applied: [], restartRequired: [] });
  });
});

describe('limits options', () => {
  it('match the protocol core defaults and map onto its parameters', async () => {
    const { eventLimitsFrom } = await import('../../src/config/limits.js');
    const { DEFAULT_EVENT_LIMITS } = await import('../../src/nostr/event-shape.js');
    const { DEFAULT_NIP11_MAX_BYTES } = await import('../../src/nostr/nip11.js');
    const config = loadConfig({ env: {} }).config;
    expect(eventLimitsFrom(config.limits)).toEqual(DEFAULT_EVENT_LIMITS);
    expect(config.limits.nip11_max_bytes).toBe(DEFAULT_NIP11_MAX_BYTES);
    const custom = loadConfig({ env: { BIGBROTR_LIMITS__EVENT_MAX_TAGS: '5' } }).config;
    expect(eventLimitsFrom(custom.limits).maxTags).toBe(5);
  });
});
