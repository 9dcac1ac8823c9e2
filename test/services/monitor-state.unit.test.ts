/**
 * What a monitor keeps from pass to pass: refusals that end on the injected clock, the announcement
 * sent at most once per interval, and two monitors that share nothing.
 */
import { describe, expect, it } from 'vitest';
import { createMonitorState, refusedRelayIds, refuseUntilNextInterval, takeAnnouncementTurn } from '../../src/services/monitor/state.js';

describe('monitor state', () => {
  it('refuses a relay until the next interval, then forgets the refusal', () => {
    const state = createMonitorState();
    refuseUntilNextInterval(state, 7, 1_000_000, 60);
    refuseUntilNextInterval(state, 8, 1_030_000, 60);
    expect(refusedRelayIds(state, 1_059_999)).toEqual([7, 8]);
    expect(refusedRelayIds(state, 1_060_000)).toEqual([8]);
    expect(state.refusedUntil.has(7)).toBe(false);
    expect(refusedRelayIds(state, 1_090_000)).toEqual([]);
  });

  it('takes the announcement turn at most once per interval', () => {
    const state = createMonitorState();
    expect(takeAnnouncementTurn(state, 5_000_000, 1800)).toBe(true); // a new monitor announces itself at once
    expect(takeAnnouncementTurn(state, 5_000_000 + 1_799_999, 1800)).toBe(false);
    expect(takeAnnouncementTurn(state, 5_000_000 + 1_800_000, 1800)).toBe(true);
    expect(state.lastAnnouncementAt).toBe(6_800_000);
  });

  it('gives two monitors in one process independent state', () => {
    const first = createMonitorState();
    const second = createMonitorState();
    expect(takeAnnouncementTurn(first, 5_000_000, 1800)).toBe(true);
    expect(takeAnnouncementTurn(second, 5_000_001, 1800)).toBe(true); // the first one's announcement does not hold it back
    refuseUntilNextInterval(first, 1, 5_000_000, 60);
    expect(refusedRelayIds(second, 5_000_000)).toEqual([]);
    first.identity.published = 'fingerprint';
    expect(second.identity.published).toBeUndefined();
    expect(first.writeKey).toMatch(/^[0-9a-f]{64}$/);
    expect(second.writeKey).not.toBe(first.writeKey);
  });
});
