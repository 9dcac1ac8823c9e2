/**
 * The switchable misbehaviours of a hostile or broken relay that are more than a refusal: corrupted
 * events, garbage frames, a stream dripped one byte per frame, strangers mixed into an answer, an
 * absurdly nested NOTICE, and upgrades refused or left hanging.
 */
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';
import type { NostrEvent } from '../nostr/event.js';
import { matchesFilter, type Filter } from './filter.js';
import type { Misbehaviour } from './options.js';
import type { RelayState } from './relay-state.js';

/** The `index`th event of an answer (from 1), with its signature or id corrupted when the misbehaviour says so. */
export function tamper(event: NostrEvent, index: number, behaviour: Misbehaviour): NostrEvent {
  if (behaviour.badSignatureEvery > 0 && index % behaviour.badSignatureEvery === 0) {
    return { ...event, sig: `${event.sig.slice(0, 10)}${event.sig[10] === '0' ? '1' : '0'}${event.sig.slice(11)}` };
  }
  if (behaviour.badIdEvery > 0 && index % behaviour.badIdEvery === 0)
    return { ...event, id: `${event.id.slice(0, 63)}${event.id[63] === '0' ? '1' : '0'}` };
  return event;
}

/** Non-JSON text, a binary frame, JSON of the wrong shapes: what a broken relay sends before an answer. */
export function sendGarbage(socket: WebSocket): void {
  socket.send('this is not json');
  socket.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]), { binary: true });
  socket.send(JSON.stringify({ not: 'an array' }));
  socket.send(JSON.stringify(['EVENT']));
  socket.send(JSON.stringify(['WHATEVER', 1, 2]));
  socket.send(JSON.stringify(['EVENT', 'unknown-sub', { id: 'zz' }]));
}

/** A NOTICE holding an array nested `depth` deep (~5,000 crashed JSON.stringify). */
export function deepNestingNoticeText(depth: number): string {
  return `["NOTICE",${'['.repeat(depth)}${']'.repeat(depth)}]`;
}

/** Puts up to `count` stored events that match none of the filters into the answer, after its first event. */
export function mixInStrangers(events: NostrEvent[], stored: readonly NostrEvent[], filters: Filter[], count: number): void {
  const strangers = stored.filter((event) => !filters.some((filter) => matchesFilter(event, filter))).slice(0, count);
  events.splice(Math.min(1, events.length), 0, ...strangers);
}

/** One byte per WebSocket frame (continuation frames), slowly; the pause is read at each byte, as tests switch it. */
export async function sendDripping(relay: RelayState, socket: WebSocket, text: string): Promise<void> {
  const bytes = Buffer.from(text, 'utf8');
  for (let index = 0; index < bytes.length; index += 1) {
    if (socket.readyState !== WebSocket.OPEN) return;
    await new Promise<void>((resolve) =>
      socket.send(bytes.subarray(index, index + 1), { fin: index === bytes.length - 1, binary: false }, () => resolve()),
    );
    if (relay.behaviour.byteAtATimeMs > 0) await sleep(relay.behaviour.byteAtATimeMs);
  }
}

/** Refuses the WebSocket upgrade (HTTP 503) or leaves it hanging when the misbehaviour says so; true when it did. */
export function misbehaveOnUpgrade(behaviour: Misbehaviour, socket: Duplex): boolean {
  if (behaviour.refuseUpgrade) {
    socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    return true;
  }
  if (behaviour.hangHandshake) {
    // Keep the TCP connection open and never answer, but notice when the client goes away.
    socket.on('error', () => socket.destroy());
    socket.on('end', () => socket.destroy());
    socket.resume();
    return true;
  }
  return false;
}
