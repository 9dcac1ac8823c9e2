import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireLeases, releaseLeases, renewLeases } from '../../src/db/leases.js';
import { openDatabase } from '../../src/db/open.js';
import type { Database } from '../../src/db/database.js';
import { createTestDatabase, testDatabaseKind, type TestDatabase } from '../support/database.js';

let test: TestDatabase;
beforeAll(async () => {
  test = await createTestDatabase();
});
afterAll(async () => {
  await test?.dispose();
});

const resources = Array.from({ length: 20 }, (_, index) => `relay-${index}`);

describe('service leases', () => {
  it('two owners never hold the same resource, and each gets at most its limit', async () => {
    const a = await acquireLeases(test.db, { service: 'sync', owner: 'a', candidates: resources, limit: 8, ttlMs: 60_000 });
    const b = await acquireLeases(test.db, { service: 'sync', owner: 'b', candidates: resources, limit: 100, ttlMs: 60_000 });
    expect(a.length).toBe(8);
    expect(b.length).toBe(12);
    expect(a.filter((resource) => b.includes(resource))).toEqual([]);
    // Another service is independent.
    expect(
      (await acquireLeases(test.db, { service: 'monitor', owner: 'b', candidates: resources, limit: 100, ttlMs: 60_000 })).length,
    ).toBe(20);
  });

  it('an expired lease is taken over; a live one is renewed only by its owner', async () => {
    const held = await acquireLeases(test.db, { service: 'expiry', owner: 'crashed', candidates: ['r1', 'r2'], limit: 2, ttlMs: 1 });
    expect(held.sort()).toEqual(['r1', 'r2']);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await renewLeases(test.db, { service: 'expiry', owner: 'crashed', resources: ['r1'], ttlMs: 60_000 })).toEqual([]);
    const taken = await acquireLeases(test.db, { service: 'expiry', owner: 'alive', candidates: ['r1', 'r2'], limit: 5, ttlMs: 60_000 });
    expect(taken.sort()).toEqual(['r1', 'r2']);
    expect(await renewLeases(test.db, { service: 'expiry', owner: 'alive', resources: ['r1', 'r2'], ttlMs: 60_000 })).toHaveLength(2);
    expect(await acquireLeases(test.db, { service: 'expiry', owner: 'other', candidates: ['r1', 'r2'], limit: 5, ttlMs: 60_000 })).toEqual(
      [],
    );
    expect(await releaseLeases(test.db, { service: 'expiry', owner: 'alive', resources: ['r1'] })).toBe(1);
    expect(await acquireLeases(test.db, { service: 'expiry', owner: 'other', candidates: ['r1', 'r2'], limit: 5, ttlMs: 60_000 })).toEqual([
      'r1',
    ]);
  });

  it.runIf(testDatabaseKind === 'postgres')('concurrent acquisitions from separate connection pools never overlap', async () => {
    const pools: Database[] = await Promise.all([1, 2, 3, 4].map(() => openDatabase(test.config)));
    try {
      const many = Array.from({ length: 200 }, (_, index) => `res-${index}`);
      const results = await Promise.all(
        pools.map((db, index) => acquireLeases(db, { service: 'race', owner: `w${index}`, candidates: many, limit: 80, ttlMs: 60_000 })),
      );
      const all = results.flat();
      expect(new Set(all).size).toBe(all.length);
      expect(all.length).toBe(200);
    } finally {
      await Promise.all(pools.map((db) => db.close()));
    }
  });
});
