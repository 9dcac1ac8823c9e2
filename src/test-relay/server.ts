/**
 * A real Nostr relay for tests, on 127.0.0.1 and a random port: NIP-01 (REQ/EVENT/EOSE/CLOSE/OK/
 * NOTICE/CLOSED), NIP-11 over HTTP, NIP-42 AUTH, NIP-45 COUNT, NIP-77 negentropy (NEG-OPEN/NEG-MSG/
 * NEG-CLOSE/NEG-ERR), a silent `limit` cap, and switchable misbehaviours.
 *
 * This file wires the parts: the HTTP server and WebSocket adapter (http-server.ts, websocket.ts),
 * one handler per message type (handlers/), the shared state (relay-state.ts).
 */
import type { NostrEvent } from '../nostr/event.js';
import type { TestRelayCounters } from './counters.js';
import { createRelayServer, listen } from './http-server.js';
import type { Misbehaviour, TestRelayOptions } from './options.js';
import { broadcast } from './outbound.js';
import { createRelayState } from './relay-state.js';
import type { EventStore } from './store.js';
import { acceptSessions } from './websocket.js';

export type { TestRelayCounters } from './counters.js';

export interface TestRelay {
  url: string;
  httpUrl: string;
  port: number;
  store: EventStore;
  counters: TestRelayCounters;
  readonly connectionCount: number;
  addEvents(events: NostrEvent[]): number;
  setBehaviour(misbehaviour: Partial<Misbehaviour>): void;
  setOptions(options: Partial<Omit<TestRelayOptions, 'misbehaviour'>>): void;
  close(): Promise<void>;
}

export async function startTestRelay(options: Partial<TestRelayOptions> = {}): Promise<TestRelay> {
  const relay = createRelayState(options);
  const { http, wss, tcpSockets } = createRelayServer(relay);
  acceptSessions(relay, wss);
  const port = await listen(http, relay.settings.port);
  const urlHost = relay.settings.urlHost ?? '127.0.0.1';
  const tls = Boolean(relay.settings.tls);
  relay.url = `${tls ? 'wss' : 'ws'}://${urlHost}:${port}/`;

  return {
    url: relay.url,
    httpUrl: `${tls ? 'https' : 'http'}://${urlHost}:${port}/`,
    port,
    store: relay.store,
    counters: relay.counters,
    get connectionCount() {
      return relay.sessions.size;
    },
    addEvents(events) {
      const stored = relay.store.addMany(events);
      for (const event of events) broadcast(relay, event);
      return stored;
    },
    setBehaviour(misbehaviour) {
      relay.behaviour = { ...relay.behaviour, ...misbehaviour };
    },
    setOptions(next) {
      relay.settings = { ...relay.settings, ...next };
    },
    close: async () => {
      for (const session of relay.sessions) session.socket.terminate();
      for (const socket of tcpSockets) socket.destroy();
      wss.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
