/**
 * What a monitor keeps from one pass to the next. It lives on the monitor (one per service, a fresh
 * one for `monitor --once`), never at module level, so two monitors in one process share nothing.
 */
import { generateSecretKey } from '../../nostr/sign.js';

export interface MonitorState {
  /**
   * Relays screening refused (blacklist, private address) by id, with the time (ms) before which they
   * are not taken again.
   */
  refusedUntil: Map<number, number>;
  /**
   * What this monitor last published as its kind 0 profile and kind 10002 list (a fingerprint):
   * published again only when the configuration changed them. A fresh state publishes them.
   */
  identity: { published?: string };
  /** When this monitor last published its kind 10166 announcement (ms; it is sent at most once per interval). */
  lastAnnouncementAt: number;
  /** Key for the write check when no identity is configured: one per monitor, never stored. */
  writeKey: string;
}

export function createMonitorState(): MonitorState {
  return { refusedUntil: new Map(), identity: {}, lastAnnouncementAt: 0, writeKey: generateSecretKey() };
}

/** The relays still refused at `now` (ms); the refusals that ended are forgotten. */
export function refusedRelayIds(state: MonitorState, now: number): number[] {
  for (const [id, until] of state.refusedUntil) if (until <= now) state.refusedUntil.delete(id);
  return [...state.refusedUntil.keys()];
}

/** A refused relay is not taken again before the next interval. */
export function refuseUntilNextInterval(state: MonitorState, relayId: number, now: number, intervalSeconds: number): void {
  state.refusedUntil.set(relayId, now + intervalSeconds * 1000);
}

/** Whether the announcement is due at `now` (ms); if so, it counts as sent now. */
export function takeAnnouncementTurn(state: MonitorState, now: number, intervalSeconds: number): boolean {
  if (now - state.lastAnnouncementAt < intervalSeconds * 1000) return false;
  state.lastAnnouncementAt = now;
  return true;
}
