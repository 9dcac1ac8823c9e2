/** What the relay sends a session: frames with backpressure and the delay/drip misbehaviours, events serialised once, live events. */
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';
import type { NostrEvent } from '../nostr/event.js';
import { matchesFilter } from './filter.js';
import { sendDripping } from './misbehaviours.js';
import type { RelayState } from './relay-state.js';
import type { Session } from './session.js';

/** The TCP socket under a WebSocket (ws keeps it private), to cork and uncork frames. */
export const tcpSocketOf = (socket: WebSocket): Socket | undefined => (socket as unknown as { _socket?: Socket })._socket;

export async function sendText(relay: RelayState, session: Session, text: string): Promise<void> {
  const { socket } = session;
  if (relay.behaviour.delayMs > 0) await sleep(relay.behaviour.delayMs);
  if (socket.readyState !== WebSocket.OPEN) return;
  // Respect backpressure: a fast stream must not pile up in memory. Corked frames never drain, so
  // flush them before waiting (or a big answer would wait for itself for ever).
  if (socket.bufferedAmount > 1024 * 1024) tcpSocketOf(socket)?.uncork();
  while (socket.bufferedAmount > 1024 * 1024 && socket.readyState === WebSocket.OPEN) await sleep(5);
  if (relay.behaviour.byteAtATimeMs >= 0) return sendDripping(relay, socket, text);
  // Queued in order by ws; the loop above keeps the queue bounded (like a real relay, no wait per frame).
  socket.send(text);
}

export const send = (relay: RelayState, session: Session, message: unknown): Promise<void> =>
  sendText(relay, session, JSON.stringify(message));

/** Sends these messages one after the other. */
export async function sendAll(relay: RelayState, session: Session, messages: unknown[][]): Promise<void> {
  for (const message of messages) await send(relay, session, message);
}

const eventJson = (relay: RelayState, event: NostrEvent): string => {
  let text = relay.serialized.get(event);
  if (text === undefined) {
    text = JSON.stringify(event);
    relay.serialized.set(event, text);
  }
  return text;
};

export const sendEvent = (relay: RelayState, session: Session, subId: string, event: NostrEvent): Promise<void> =>
  sendText(relay, session, `["EVENT",${JSON.stringify(subId)},${eventJson(relay, event)}]`);

/** A new event goes to every open subscription it matches, on every session. */
export function broadcast(relay: RelayState, event: NostrEvent): void {
  for (const session of relay.sessions) {
    for (const [subId, filters] of session.subscriptions) {
      if (filters.some((filter) => matchesFilter(event, filter))) void send(relay, session, ['EVENT', subId, event]);
    }
  }
}
