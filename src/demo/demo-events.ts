/**
 * The demo's network: signed events for a handful of local relays. Authors post notes with hashtags,
 * react to each other, publish profiles, and list their relays (kind 10002) — lists that name the
 * other demo relays, so discovery finds them from a single seed. Some events are on several relays.
 */
import { createHash } from 'node:crypto';
import type { NostrEvent } from '../nostr/event.js';
import { signEvent } from '../nostr/sign.js';

const HASHTAGS = ['nostr', 'bitcoin', 'relays', 'archive', 'demo', 'photography', 'music', 'zaps'];

function secretKey(index: number): string {
  return createHash('sha256').update(`bigbrotr-demo-author:${index}`).digest('hex');
}

const AUTHORS = 24;

export function demoEvents(relayUrls: string[], eventsPerRelay: number, now = Math.floor(Date.now() / 1000)): NostrEvent[][] {
  const keys = Array.from({ length: AUTHORS }, (_, index) => secretKey(index));
  const perRelay: NostrEvent[][] = relayUrls.map(() => []);
  const notes: NostrEvent[] = [];
  let sequence = 0;
  const at = (index: number) => now - 14 * 86_400 + Math.floor(((index % 997) / 997) * 14 * 86_400);

  relayUrls.forEach((_url, relayIndex) => {
    const events = perRelay[relayIndex] as NostrEvent[];
    for (let index = 0; index < AUTHORS; index += 1) {
      if (index % relayUrls.length !== relayIndex) continue;
      // Relay lists name this relay and the next one: following them reaches every demo relay.
      const listed = [relayUrls[relayIndex] as string, relayUrls[(relayIndex + 1) % relayUrls.length] as string];
      events.push(...profileAndRelayList(keys[index] as string, index, listed, now));
    }
    while (events.length < eventsPerRelay) {
      sequence += 1;
      const reactTo = notes.length > 10 && sequence % 4 === 0 ? notes[(sequence * 7) % notes.length] : undefined;
      const key = keys[sequence % AUTHORS] as string;
      const event = reactTo ? reaction(reactTo, at(sequence), key) : note(sequence, at(sequence), key);
      if (!reactTo) notes.push(event);
      events.push(event);
      // One in five is also on the next relay: the archive keeps it once, with both relays.
      if (sequence % 5 === 0) (perRelay[(relayIndex + 1) % relayUrls.length] as NostrEvent[]).push(event);
    }
  });
  return perRelay;
}

function profileAndRelayList(key: string, index: number, listed: string[], now: number): NostrEvent[] {
  const content = JSON.stringify({ name: `demo author ${index}`, about: 'a generated demo account' });
  return [
    signEvent({ kind: 0, created_at: now - 86_400 * 20, tags: [], content }, key),
    signEvent({ kind: 10002, created_at: now - 86_400 * 19, tags: listed.map((url) => ['r', url]), content: '' }, key),
  ];
}

function reaction(to: NostrEvent, createdAt: number, key: string): NostrEvent {
  const tags = [
    ['e', to.id],
    ['p', to.pubkey],
  ];
  return signEvent({ kind: 7, created_at: createdAt, tags, content: '+' }, key);
}

function note(sequence: number, createdAt: number, key: string): NostrEvent {
  const hashtag = HASHTAGS[sequence % HASHTAGS.length] as string;
  return signEvent({ kind: 1, created_at: createdAt, tags: [['t', hashtag]], content: `demo note ${sequence} #${hashtag}` }, key);
}
