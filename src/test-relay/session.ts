/** One WebSocket connection to the test relay: its subscriptions, NIP-42 state, NIP-77 sessions and REQ history. */
import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { Filter } from './filter.js';
import type { Negentropy } from '../nostr/negentropy.js';

export interface Session {
  socket: WebSocket;
  subscriptions: Map<string, Filter[]>;
  challenge: string;
  authedPubkeys: Set<string>;
  reqTimes: number[];
  /** NIP-77 sessions by subscription id (a namespace separate from REQ's). */
  negentropy: Map<string, Negentropy>;
  /** REQs answered on this connection. */
  reqsAnswered: number;
  idleTimer?: NodeJS.Timeout;
}

export function newSession(socket: WebSocket): Session {
  return {
    socket,
    subscriptions: new Map(),
    challenge: randomBytes(16).toString('hex'),
    authedPubkeys: new Set(),
    reqTimes: [],
    negentropy: new Map(),
    reqsAnswered: 0,
  };
}

/** (Re)starts the countdown after which a silent connection is closed (0 = never). */
export function armIdleClose(session: Session, idleCloseMs: number): void {
  clearTimeout(session.idleTimer);
  if (idleCloseMs > 0) session.idleTimer = setTimeout(() => session.socket.close(1000, 'idle'), idleCloseMs);
}

/** Records a REQ at `now` and says whether the connection sent more than `perSecond` in the last second. */
export function overRateLimit(session: Session, perSecond: number, now: number): boolean {
  session.reqTimes = session.reqTimes.filter((time) => now - time < 1_000);
  session.reqTimes.push(now);
  return session.reqTimes.length > perSecond;
}

/** The session has authenticated at least one pubkey (NIP-42). */
export const isAuthenticated = (session: Session): boolean => session.authedPubkeys.size > 0;
