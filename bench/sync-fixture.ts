/**
 * The sync benchmark's relay content: N signed events spread over three years plus a burst of
 * `burst` events in one second (more than the relay's cap, so pagination must split that second).
 * Signing 200,000 events takes about a minute, so the set is cached as NDJSON in the OS temp
 * directory and reused by later runs with the same parameters.
 */
import { createReadStream, existsSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { NostrEvent } from '../src/nostr/event.js';
import { generateEvents } from '../test/support/events.js';

export const BURST_SECOND = 1_650_000_000;

export interface SyncFixture {
  path: string;
  total: number;
  burst: number;
}

export function ensureSyncFixture(total: number, burst: number): SyncFixture {
  const path = join(tmpdir(), `bigbrotr-bench-sync-${total}-${burst}-v1.ndjson`);
  if (!existsSync(path)) {
    const spread = generateEvents({
      count: total - burst,
      authors: 500,
      kinds: [1, 7, 6, 30023],
      createdAt: [1_600_000_000, 1_700_000_000],
      contentSize: 200,
      seed: 'bench-sync',
      tags: [['t', 'bench']],
    });
    const crowded = generateEvents({
      count: burst,
      authors: 200,
      kinds: [1, 7],
      createdAt: BURST_SECOND,
      contentSize: 120,
      seed: 'bench-sync-burst',
    });
    const partial = `${path}.${process.pid}.partial`;
    writeFileSync(partial, [...spread, ...crowded].map((event) => JSON.stringify(event)).join('\n') + '\n');
    renameSync(partial, path);
  }
  return { path, total, burst };
}

export async function readSyncFixture(path: string): Promise<NostrEvent[]> {
  const events: NostrEvent[] = [];
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    if (line) events.push(JSON.parse(line) as NostrEvent);
  }
  return events;
}
