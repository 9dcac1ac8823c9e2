/**
 * A REQ's answer: which stored events it gets under the relay's options, then the stream of them,
 * with the misbehaviours that cut or corrupt it.
 */
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import type { NostrEvent } from '../nostr/event.js';
import { hasExpired, type Filter } from './filter.js';
import { mixInStrangers, sendGarbage, tamper } from './misbehaviours.js';
import { DEFAULT_ENFORCED } from './options.js';
import { send, sendEvent, tcpSocketOf } from './outbound.js';
import { nowSeconds, type RelayState } from './relay-state.js';
import { isAuthenticated, type Session } from './session.js';

/** Each filter's matches (capped by its limit), in filter order, each event once unless the relay repeats them per filter. */
function matchingEvents(relay: RelayState, filters: Filter[]): NostrEvent[] {
  const { settings, store, behaviour } = relay;
  const ignoreTime = behaviour.ignoreSinceUntil;
  const seen = new Set<string>();
  const events: NostrEvent[] = [];
  const searching = settings.enforces.search === true;
  for (const filter of filters) {
    const limit = Math.min(filter.limit ?? settings.defaultLimit, settings.maxLimit);
    // NIP-50 (when enforced): the search narrows the matches before the limit applies.
    const term = searching ? (filter as { search?: unknown }).search : undefined;
    const matches =
      typeof term === 'string'
        ? store
            .queryOrdered(filter, Number.MAX_SAFE_INTEGER, settings.sameSecondOrder, { ignoreTime })
            .filter((event) => event.content.toLowerCase().includes(term.toLowerCase()))
            .slice(0, limit)
        : store.queryOrdered(filter, limit, settings.sameSecondOrder, { ignoreTime });
    for (const event of matches) {
      if (seen.has(event.id) && !settings.duplicatesAcrossFilters) continue;
      seen.add(event.id);
      events.push(event);
    }
  }
  return events;
}

/** The events a REQ gets: the matches, less expired and withheld events, cut the way the relay cuts several filters. */
export function selectAnswer(relay: RelayState, session: Session, filters: Filter[]): NostrEvent[] {
  const { settings, behaviour } = relay;
  let events = matchingEvents(relay, filters);
  const enforced = { ...DEFAULT_ENFORCED, ...settings.enforces };
  const now = nowSeconds();
  if (enforced.expiration) events = events.filter((event) => !hasExpired(event, now));
  if (settings.multiFilterLimit === 'first-filter' && filters.length > 1) {
    // nostream: one UNION whose ORDER BY and LIMIT are the first filter's.
    const limit = Math.min(filters[0]?.limit ?? settings.defaultLimit, settings.maxLimit);
    events = [...events].sort((a, b) => b.created_at - a.created_at).slice(0, limit);
  }
  // strfry: events of read-restricted kinds count towards the limit, then are dropped for readers who did not authenticate.
  if (settings.withheldKinds.length > 0 && !isAuthenticated(session))
    events = events.filter((event) => !settings.withheldKinds.includes(event.kind));
  if (behaviour.outOfFilterEvents > 0) mixInStrangers(events, relay.store.all(), filters, behaviour.outOfFilterEvents);
  return events;
}

export async function answerReq(relay: RelayState, session: Session, subId: string, filters: Filter[]): Promise<void> {
  const events = selectAnswer(relay, session, filters);
  const { behaviour } = relay;
  if (behaviour.garbageFrames) sendGarbage(session.socket);
  // Frames of one answer go out in few writes (as a C++ relay would), not one system call each.
  // (Not when a misbehaviour must cut the stream at an exact event: a terminate would drop corked frames.)
  const plain = behaviour.delayMs === 0 && behaviour.byteAtATimeMs < 0 && behaviour.dropAfterEvents < 0;
  const raw = plain ? tcpSocketOf(session.socket) : undefined;
  raw?.cork();
  try {
    await streamAnswer(relay, session, subId, events, raw);
  } finally {
    raw?.uncork();
  }
}

/**
 * Sends the events then EOSE, unless the subscription closes or a misbehaviour ends the stream first
 * (misbehaviours are read at each event: tests switch them mid-stream).
 */
async function streamAnswer(
  relay: RelayState,
  session: Session,
  subId: string,
  events: NostrEvent[],
  raw: Socket | undefined,
): Promise<void> {
  let sent = 0;
  for (const event of events) {
    if (!session.subscriptions.has(subId) || session.socket.readyState !== WebSocket.OPEN) return;
    if (sent === relay.behaviour.earlyEoseAfter) await send(relay, session, ['EOSE', subId]);
    if (sent === relay.behaviour.dropAfterEvents) return void session.socket.terminate();
    if (sent === relay.behaviour.closeSubscriptionAfter) {
      session.subscriptions.delete(subId);
      return void (await send(relay, session, ['CLOSED', subId, 'error: subscription closed by the test relay']));
    }
    sent += 1;
    const outgoing = tamper(event, sent, relay.behaviour);
    await sendEvent(relay, session, subId, outgoing);
    relay.counters.eventsSent += 1;
    if (relay.behaviour.duplicateEvents) {
      await sendEvent(relay, session, subId, outgoing);
      relay.counters.eventsSent += 1;
    }
    if (raw && sent % 64 === 0) {
      raw.uncork();
      raw.cork();
    }
  }
  if (sent === relay.behaviour.dropAfterEvents) return void session.socket.terminate();
  const { neverEose, earlyEoseAfter } = relay.behaviour;
  if (!neverEose && earlyEoseAfter < 0) await send(relay, session, ['EOSE', subId]);
  else if (earlyEoseAfter >= sent && !neverEose) await send(relay, session, ['EOSE', subId]);
}
