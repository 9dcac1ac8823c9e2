/**
 * The services' shared plumbing: bounded workers, leases on due rows, and leases given back at the
 * end of a round (released when the database answers, and when it does not, a warning naming the
 * service instead of an error replacing the round's own outcome).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireLeases } from '../../src/db/leases.js';
import { createLogger } from '../../src/observability/logger.js';
import { forEachBounded, leaseRows, releaseLeasesQuietly, runWorkers } from '../../src/services/work-pool.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

function capture() {
  const lines: string[] = [];
  return { lines, stream: { write: (line: string) => void lines.push(line) } };
}

describe('runWorkers and forEachBounded', () => {
  it('works on every item once, never more than the bound at a time', async () => {
    const items = Array.from({ length: 25 }, (_, index) => index);
    const done: number[] = [];
    let running = 0;
    let peak = 0;
    await forEachBounded(items, 4, async (item) => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, item % 3));
      done.push(item);
      running -= 1;
    });
    expect(done.sort((a, b) => a - b)).toEqual(items);
    expect(peak).toBe(4);
  });

  it('asks next one worker at a time, so a refill from the database is never run twice at once', async () => {
    let asking = 0;
    let overlapped = false;
    let left = 12;
    const taken: number[] = [];
    await runWorkers(
      3,
      async () => {
        asking += 1;
        if (asking > 1) overlapped = true;
        await new Promise((resolve) => setTimeout(resolve, 1));
        asking -= 1;
        return left > 0 ? left-- : undefined;
      },
      async (item) => {
        taken.push(item);
      },
    );
    expect(overlapped).toBe(false);
    expect(taken.sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, index) => index + 1));
  });

  it('rejects with the error of a failed item', async () => {
    await expect(
      forEachBounded([1, 2, 3], 2, async (item) => {
        if (item === 2) throw new Error('item 2 failed');
      }),
    ).rejects.toThrow('item 2 failed');
  });
});

describe('leaseRows', () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase();
  });
  afterAll(async () => {
    await test.dispose();
  });

  it('returns the rows leased, leaving out those another owner holds', async () => {
    const rows = [
      { id: 1, url: 'wss://one.example' },
      { id: 2, url: 'wss://two.example' },
      { id: 3, url: 'wss://three.example' },
    ];
    const lease = { service: 'test-lease-rows', ttlMs: 600_000 };
    expect(await leaseRows(test.db, { ...lease, owner: 'first', rows: rows.slice(0, 1), limit: 1 })).toEqual([rows[0]]);
    const second = await leaseRows(test.db, { ...lease, owner: 'second', rows, limit: 3 });
    expect(second.map((row) => row.id).sort()).toEqual([2, 3]);
    expect(await leaseRows(test.db, { ...lease, owner: 'third', rows, limit: 3 })).toEqual([]);
  });
});

describe('releaseLeasesQuietly', () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase();
  });
  afterAll(async () => {
    await test.dispose();
  });

  it('releases the leases, so another owner can take them at once', async () => {
    const { lines, stream } = capture();
    const logger = createLogger({ level: 'trace', format: 'json' }, { destination: stream });
    const lease = { service: 'test-release', candidates: ['a', 'b'], limit: 2, ttlMs: 600_000 };
    expect(await acquireLeases(test.db, { ...lease, owner: 'first' })).toEqual(['a', 'b']);
    expect(await acquireLeases(test.db, { ...lease, owner: 'second' })).toEqual([]);
    await releaseLeasesQuietly(test.db, { service: 'test-release', owner: 'first', resources: ['a'] }, logger);
    expect(await acquireLeases(test.db, { ...lease, owner: 'second' })).toEqual(['a']);
    expect(lines).toEqual([]);
  });

  it('logs a warning naming the service when the database fails, and does not throw', async () => {
    const { lines, stream } = capture();
    const logger = createLogger({ level: 'trace', format: 'json' }, { destination: stream });
    const gone = await createTestDatabase();
    await gone.dispose();
    await expect(releaseLeasesQuietly(gone.db, { service: 'test-release', owner: 'first' }, logger)).resolves.toBeUndefined();
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0] as string) as { level: string; msg: string; service: string; err: { message: string } };
    expect(line.level).toBe('warn');
    expect(line.service).toBe('test-release');
    expect(line.msg).toContain('could not release test-release leases');
    expect(line.err.message.length).toBeGreaterThan(0);
  });
});
