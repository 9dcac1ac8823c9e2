/**
 * Leases given back at the end of a round: released when the database answers, and when it does not,
 * a warning naming the service instead of an error replacing the round's own outcome.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireLeases } from '../../src/db/leases.js';
import { createLogger } from '../../src/observability/logger.js';
import { releaseLeasesQuietly } from '../../src/services/lease-release.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

function capture() {
  const lines: string[] = [];
  return { lines, stream: { write: (line: string) => void lines.push(line) } };
}

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
