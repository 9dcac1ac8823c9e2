/**
 * A test relay in its own process, so that a test measuring memory sees only the synchronizer's.
 * Usage: relay-process.ts '<json>' where json = { options, events: { huge?: { count, bytes } } }.
 * Builds its events itself (nothing large crosses the pipe), prints `READY <url> <count>`, and runs
 * until stdin closes.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { NostrEvent } from '../../src/nostr/event.js';
import { relayProfile } from '../../src/test-relay/profiles.js';
import { startTestRelay } from '../../src/test-relay/server.js';
import { generateEvents } from './events.js';

interface Spec {
  /** A relay profile (src/test-relay/profiles.ts) to start from. */
  profile?: string;
  options?: Parameters<typeof startTestRelay>[0];
  huge?: { count: number; bytes: number; createdAt: number };
  /** NDJSON file of events to serve. */
  fixture?: string;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as Spec;
const relay = await startTestRelay({ keepAllVersions: true, ...(spec.profile ? relayProfile(spec.profile).options : {}), ...spec.options });
if (spec.fixture) {
  const events: NostrEvent[] = [];
  for await (const line of createInterface({ input: createReadStream(spec.fixture), crlfDelay: Infinity }))
    if (line) events.push(JSON.parse(line) as NostrEvent);
  relay.addEvents(events);
}
if (spec.huge) {
  const { count, bytes, createdAt } = spec.huge;
  relay.addEvents(
    generateEvents({ count, authors: 5, kinds: [1], createdAt: [createdAt, createdAt + count - 1], contentSize: bytes, seed: 'huge' }),
  );
}
process.stdout.write(`READY ${relay.url} ${relay.store.size}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  void relay.close().then(() => process.exit(0));
});
