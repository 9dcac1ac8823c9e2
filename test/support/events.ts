/**
 * Signed events for tests, reproducible: keys are derived from a seed, created_at and content from the
 * index. Signatures use fresh auxiliary randomness, ids are deterministic.
 */
import { createHash } from 'node:crypto';
import type { NostrEvent } from '../../src/nostr/event.js';
import { computeEventId } from '../../src/nostr/event-id.js';
import { signEvent } from '../../src/nostr/sign.js';

export interface GenerateOptions {
  count: number;
  /** How many distinct authors (keys), used round robin. */
  authors?: number;
  kinds?: number[];
  /** One timestamp for all, or a [from, to] range spread evenly. */
  createdAt?: number | [number, number];
  /** Tags added to every event. */
  tags?: string[][];
  contentSize?: number;
  seed?: string;
}

export function testSecretKey(seed: string, index: number): string {
  return createHash('sha256').update(`${seed}:${index}`).digest('hex');
}

export function generateEvents(options: GenerateOptions): NostrEvent[] {
  const seed = options.seed ?? 'bigbrotr-tests';
  const keys = Array.from({ length: options.authors ?? 5 }, (_, index) => testSecretKey(seed, index));
  const kinds = options.kinds ?? [1];
  const [from, to] =
    typeof options.createdAt === 'number'
      ? [options.createdAt, options.createdAt]
      : (options.createdAt ?? [1_700_000_000, 1_700_000_000 + options.count - 1]);
  const span = to - from;
  return Array.from({ length: options.count }, (_, index) => {
    const createdAt = options.count > 1 ? from + Math.floor((span * index) / (options.count - 1)) : from;
    const text = `${seed} event ${index}`;
    const content = options.contentSize ? text.padEnd(options.contentSize, '.') : text;
    return signEvent(
      { kind: kinds[index % kinds.length] as number, created_at: createdAt, tags: options.tags ?? [], content },
      keys[index % keys.length] as string,
    );
  });
}

/** Copies with a broken id / signature, for negative tests. */
export function withBadId(event: NostrEvent): NostrEvent {
  return { ...event, id: computeEventId({ ...event, content: `${event.content} (not what was signed)` }) };
}

export function withBadSignature(event: NostrEvent): NostrEvent {
  return { ...event, sig: `${event.sig.slice(0, 127)}${event.sig[127] === '0' ? '1' : '0'}` };
}
