/**
 * Relay URLs named inside events, by where they appear:
 * - `nip65`: kind 10002 `r` tags (NIP-65 relay lists, with read/write markers);
 * - `relay-list`: `relay` tags of kind 10050 (DM relays), 10006 (blocked), 10007 (search), 10012
 *   (favourites) and similar lists;
 * - `contacts`: the relay map in the JSON content of kind 3;
 * - `hint`: the relay hint (third element) of `e`, `p`, `a` and `q` tags;
 * - `nip66`: the `d` tag of kind 30166 events published by monitors.
 * Everything is untrusted text: this only collects strings; normalising and screening come next.
 */
export type MentionSource = 'nip65' | 'relay-list' | 'contacts' | 'hint' | 'nip66';

export interface ScannedEvent {
  kind: number;
  tags: unknown;
  content: string;
}

const RELAY_LIST_KINDS = new Set([10006, 10007, 10012, 10050, 10051]);
const HINT_TAGS = new Set(['e', 'p', 'a', 'q']);
/** Bounds on what one event may contribute (a hostile event with 100,000 tags costs nothing more). */
const MAX_MENTIONS_PER_EVENT = 1_000;
const MAX_CONTENT_PARSED = 256 * 1024;

export function relayMentions(event: ScannedEvent): { source: MentionSource; text: string }[] {
  const mentions: { source: MentionSource; text: string }[] = [];
  const add = (source: MentionSource, value: unknown) => {
    if (typeof value === 'string' && value.length > 0 && mentions.length < MAX_MENTIONS_PER_EVENT) mentions.push({ source, text: value });
  };
  const tags = Array.isArray(event.tags) ? event.tags : [];
  for (const tag of tags) {
    if (!Array.isArray(tag) || typeof tag[0] !== 'string') continue;
    const [name, value, third] = tag as unknown[];
    if (event.kind === 10002 && name === 'r') add('nip65', value);
    else if (RELAY_LIST_KINDS.has(event.kind) && name === 'relay') add('relay-list', value);
    else if (event.kind === 30166 && name === 'd') add('nip66', value);
    if (HINT_TAGS.has(name as string)) add('hint', third);
  }
  if (event.kind === 3 && event.content.length > 0 && event.content.length <= MAX_CONTENT_PARSED) {
    try {
      const parsed: unknown = JSON.parse(event.content);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) for (const key of Object.keys(parsed)) add('contacts', key);
    } catch {
      // Kind 3 content is often empty or not JSON: nothing to collect.
    }
  }
  return mentions;
}
