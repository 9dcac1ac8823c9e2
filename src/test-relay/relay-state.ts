/**
 * What every part of one test relay shares: its current options and misbehaviours (tests switch them
 * while it runs, so every part reads them here at the moment it acts), its events, counters and
 * open sessions.
 */
import type { NostrEvent } from '../nostr/event.js';
import { emptyCounters, type TestRelayCounters } from './counters.js';
import { DEFAULT_MISBEHAVIOUR, DEFAULT_RELAY_OPTIONS, type Misbehaviour, type TestRelayOptions } from './options.js';
import type { Session } from './session.js';
import { EventStore } from './store.js';

export type RelaySettings = Omit<TestRelayOptions, 'misbehaviour'>;

export interface RelayState {
  settings: RelaySettings;
  behaviour: Misbehaviour;
  readonly store: EventStore;
  readonly counters: TestRelayCounters;
  readonly sessions: Set<Session>;
  /** The relay's own ws:// URL, known once it listens (NIP-42 AUTH events must name it). */
  url: string;
  /** Each stored event serialised once, as real relays keep them (strfry stores the JSON it sends). */
  readonly serialized: WeakMap<NostrEvent, string>;
}

/** Answers one client message type; `message` is the whole array, type first. */
export type MessageHandler = (relay: RelayState, session: Session, message: unknown[]) => Promise<void> | void;

export function createRelayState(options: Partial<TestRelayOptions>): RelayState {
  const settings: RelaySettings = { ...DEFAULT_RELAY_OPTIONS, ...options };
  return {
    settings,
    behaviour: { ...DEFAULT_MISBEHAVIOUR, ...options.misbehaviour },
    store: new EventStore(settings.keepAllVersions),
    counters: emptyCounters(),
    sessions: new Set(),
    url: '',
    serialized: new WeakMap(),
  };
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
