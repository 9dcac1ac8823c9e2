import { afterAll, describe, expect, it } from 'vitest';
import { createVerifyPool, verifyPoolOptions, type VerifyPool } from '../../src/verify/pool.js';
import { loadConfig } from '../../src/config/loader.js';
import { generateSecretKey, signEvent } from '../../src/nostr/sign.js';
import { loadVerifier } from '../../src/nostr/schnorr.js';
import { verifyEvent } from '../../src/nostr/verify-event.js';

const pools: VerifyPool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.close()));
});

describe('verification pool', () => {
  it('verifies a mixed batch across workers, in order, like the single-threaded path', async () => {
    const key = generateSecretKey();
    const events = Array.from({ length: 230 }, (_, index) =>
      signEvent({ kind: 1, tags: [['t', String(index)]], content: `event ${index} \u0001`, created_at: 1_700_000_000 + index }, key),
    );
    events[7] = { ...(events[7] as (typeof events)[number]), id: '0'.repeat(64) };
    events[100] = { ...(events[100] as (typeof events)[number]), sig: (events[101] as (typeof events)[number]).sig };
    events[229] = { ...(events[229] as (typeof events)[number]), content: 'tampered' };
    const pool = await createVerifyPool({ workers: 2, batchSize: 50 });
    pools.push(pool);
    expect(pool.size).toBe(2);
    expect(pool.verifierName).toBe(loadVerifier().name);
    const verdicts = await pool.verify(events);
    expect(verdicts.length).toBe(events.length);
    const expected = events.map((event) => verifyEvent(event, loadVerifier()));
    expect(verdicts).toEqual(expected);
    expect(verdicts.filter((verdict) => !verdict.ok).length).toBe(3);
  });

  it('uses the WASM back end when asked and closes cleanly', async () => {
    const pool = await createVerifyPool({ workers: 1, batchSize: 10, verifier: 'wasm' });
    expect(pool.verifierName).toBe('wasm');
    const event = signEvent({ kind: 1, tags: [], content: 'x' }, generateSecretKey());
    expect(await pool.verify([event])).toEqual([{ ok: true, serialization: 'json' }]);
    expect(await pool.verify([])).toEqual([]);
    await pool.close();
    await expect(pool.verify([event])).rejects.toThrow(/closed/);
  });
});

describe('verify pool options from the configuration', () => {
  it('remembers fewer signatures with the embedded database unless told a number', () => {
    const embedded = loadConfig({ env: {} }).config;
    const server = loadConfig({ env: { BIGBROTR_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/x' } }).config;
    expect(verifyPoolOptions(embedded).knownSignatures).toBe(20_000);
    expect(verifyPoolOptions(server).knownSignatures).toBe(100_000);
    const told = loadConfig({ env: { BIGBROTR_VERIFY__KNOWN_SIGNATURES: '0' } }).config;
    expect(verifyPoolOptions(told).knownSignatures).toBe(0);
    expect(verifyPoolOptions(loadConfig({ env: { BIGBROTR_VERIFY__KNOWN_SIGNATURES: '500000' } }).config).knownSignatures).toBe(500_000);
  });
});
