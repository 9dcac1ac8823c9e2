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

export function demoEvents(relayUrls: string[], eventsPerRelay: number, now = Math.floor(Date.now() / 1000)): NostrEvent[][] {
  const authors = 24;
  const keys = Array.from({ length: authors }, (_, index) => secretKey(index));
  const perRelay: NostrEvent[][] = relayUrls.map(() => []);
  const notes: NostrEvent[] = [];
  let sequence = 0;
  const at = (index: number) => now - 14 * 86_400 + Math.floor(((index % 997) / 997) * 14 * 86_400);

  relayUrls.forEach((_url, relayIndex) => {
    const events = perRelay[relayIndex] as NostrEvent[];
    for (let index = 0; index < authors; index += 1) {
      if (index % relayUrls.length !== relayIndex) continue;
      const key = keys[index] as string;
      events.push(
        signEvent(
          {
            kind: 0,
            created_at: now - 86_400 * 20,
            tags: [],
            content: JSON.stringify({ name: `demo author ${index}`, about: 'a generated demo account' }),
          },
          key,
        ),
      );
      // Relay lists name this relay and the next one: following them reaches every demo relay.
      const listed = [relayUrls[relayIndex] as string, relayUrls[(relayIndex + 1) % relayUrls.length] as string];
      events.push(signEvent({ kind: 10002, created_at: now - 86_400 * 19, tags: listed.map((url) => ['r', url]), content: '' }, key));
    }
    while (events.length < eventsPerRelay) {
      sequence += 1;
      const key = keys[sequence % authors] as string;
      const reactTo = notes.length > 10 && sequence % 4 === 0 ? notes[(sequence * 7) % notes.length] : undefined;
      const event = reactTo
        ? signEvent(
            {
              kind: 7,
              created_at: at(sequence),
              tags: [
                ['e', reactTo.id],
                ['p', reactTo.pubkey],
              ],
              content: '+',
            },
            key,
          )
        : signEvent(
            {
              kind: 1,
              created_at: at(sequence),
              tags: [['t', HASHTAGS[sequence % HASHTAGS.length] as string]],
              content: `demo note ${sequence} #${HASHTAGS[sequence % HASHTAGS.length]}`,
            },
            key,
          );
      if (!reactTo) notes.push(event);
      events.push(event);
      // One in five is also on the next relay: the archive keeps it once, with both relays.
      if (sequence % 5 === 0) (perRelay[(relayIndex + 1) % relayUrls.length] as NostrEvent[]).push(event);
    }
  });
  return perRelay;
}
