/**
 * The decisions a relay pass takes before it connects, by its injected clock: which window it covers,
 * whether to try NIP-77, how large a negentropy frame may be; and how the windows' reports add up.
 */
import { describe, expect, it } from 'vitest';
import { configSchema, type Config } from '../../src/config/schema.js';
import type { SyncCursor } from '../../src/db/sync-cursors.js';
import { negentropyFrameSizeLimit, passWindow, shouldTryNegentropy } from '../../src/services/sync/pass-plan.js';
import { addNegentropy, addReport, emptyReport, problemLogger } from '../../src/services/sync/pass-report.js';
import type { Logger } from '../../src/observability/logger.js';

const NOW_MS = 1_800_000_000_000;
const NOW = NOW_MS / 1000;

function config(sync: Partial<Config['sync']> = {}, retentionDays = 0): Config {
  const base = configSchema.parse({});
  return { ...base, sync: { ...base.sync, ...sync }, maintenance: { ...base.maintenance, event_retention_days: retentionDays } };
}

function cursor(fields: Partial<SyncCursor> = {}): SyncCursor {
  return {
    relayId: 1,
    scope: 'all',
    positionAt: null,
    passUntil: null,
    completedUntil: null,
    lastFullPassAt: null,
    negentropy: null,
    negentropyCheckedAt: null,
    ...fields,
  };
}

describe('pass window', () => {
  const visited = cursor({ completedUntil: NOW - 600, lastFullPassAt: NOW_MS - 1_000, negentropy: 'unsupported' });

  it('a first pass covers the whole history up to now', () => {
    expect(passWindow(cursor(), config({ since: 1_000 }), {}, NOW_MS)).toEqual({ since: 1_000, until: NOW, full: true });
  });

  it('a regular visit starts at the archived point minus the re-scan window', () => {
    const window = passWindow(visited, config({ rescan_window_seconds: 3_600 }), {}, NOW_MS);
    expect(window).toEqual({ since: NOW - 600 - 3_600, until: NOW, full: false });
  });

  it('a full pass is due by the clock once its interval has passed', () => {
    const settings = config({ full_pass_interval_seconds: 86_400 });
    expect(passWindow(visited, settings, {}, NOW_MS + 86_400_000 - 2_000).full).toBe(false);
    expect(passWindow(visited, settings, {}, NOW_MS + 86_400_000).full).toBe(true);
  });

  it('a relay speaking NIP-77 is reconciled over the whole range, unless negentropy is off', () => {
    const speaks = { ...visited, negentropy: 'supported' as const };
    expect(passWindow(speaks, config(), {}, NOW_MS).full).toBe(true);
    expect(passWindow(speaks, config({ negentropy: 'off' }), {}, NOW_MS).full).toBe(false);
  });

  it('never reaches before the retention cutoff, and --since/--until override the window', () => {
    expect(passWindow(cursor(), config({}, 30), {}, NOW_MS).since).toBe(NOW - 30 * 86_400);
    expect(passWindow(visited, config(), { since: 0, until: 5 }, NOW_MS)).toEqual({ since: 0, until: 5, full: true });
    expect(passWindow(visited, config(), { since: 10, until: 5 }, NOW_MS).since).toBe(5);
  });
});

describe('negentropy choice and frame size', () => {
  it('retries NIP-77 on a relay that lacked it only once the recheck interval has passed by the clock', () => {
    const lacked = cursor({ negentropy: 'unsupported', negentropyCheckedAt: NOW_MS });
    const settings = config({ negentropy_recheck_seconds: 3_600 });
    expect(shouldTryNegentropy(lacked, settings, NOW_MS + 3_599_000)).toBe(false);
    expect(shouldTryNegentropy(lacked, settings, NOW_MS + 3_600_000)).toBe(true);
    expect(shouldTryNegentropy(cursor(), settings, NOW_MS)).toBe(true);
    expect(shouldTryNegentropy(cursor(), config({ negentropy: 'off' }), NOW_MS)).toBe(false);
  });

  it("keeps hex-encoded frames under the relay's message limit, never below 4096 bytes", () => {
    const settings = config({ negentropy_frame_size_limit: 60_000 });
    expect(negentropyFrameSizeLimit(settings, undefined)).toBe(60_000);
    expect(negentropyFrameSizeLimit(settings, 65_536)).toBe(Math.floor((65_536 - 256) / 2));
    expect(negentropyFrameSizeLimit(settings, 1_000)).toBe(4_096);
    expect(negentropyFrameSizeLimit(config({ negentropy_frame_size_limit: 0 }), 1_000_256)).toBe(500_000);
  });
});

describe('pass report', () => {
  it('adds windows up: counts, problems by kind, the first reason, the stop', () => {
    const total = emptyReport();
    const part = { requests: 3, delivered: 10, outOfFilter: 1, refusals: 1, problems: { refused: 1 }, complete: true };
    addReport(total, part);
    addReport(total, { ...part, complete: false, incompleteReason: 'first', problems: { refused: 2, stalled: 1 } });
    addReport(total, { ...part, complete: false, incompleteReason: 'second', stopped: 'request-bound', crowdedSeconds: 2 });
    expect(total).toMatchObject({ requests: 9, delivered: 30, outOfFilter: 3, refusals: 3, crowdedSeconds: 2, complete: false });
    expect(total.incompleteReason).toBe('first');
    expect(total.problems).toEqual({ refused: 4, stalled: 1 });
    expect(total.stopped).toBe('request-bound');
  });

  it('sums negentropy details', () => {
    const part = { sessions: 1, splits: 2, need: 3, gone: 4, missing: 5, reqFallbacks: 6 } as Parameters<typeof addNegentropy>[1];
    expect(addNegentropy(addNegentropy(undefined, part), part)).toEqual({
      sessions: 2,
      splits: 4,
      need: 6,
      gone: 8,
      missing: 10,
      reqFallbacks: 12,
    });
  });

  it('logs each kind of problem once per pass', () => {
    const warnings: string[] = [];
    const logger = { warn: (_fields: unknown, message: string) => warnings.push(message) } as unknown as Logger;
    const onProblem = problemLogger(logger);
    onProblem({ reason: 'refused', detail: 'a' });
    onProblem({ reason: 'refused', detail: 'b' });
    onProblem({ reason: 'stalled', detail: 'c' });
    expect(warnings).toEqual(['relay refused a request', 'relay stopped answering a request before EOSE; that window stays owed']);
  });
});
