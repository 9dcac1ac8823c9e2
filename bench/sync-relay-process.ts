/**
 * The sync benchmark's relay, in its own process so that the measured process's memory and CPU are
 * the synchronizer's alone: loads the fixture, starts the test relay (cap 500, every version kept,
 * NIP-77 with 500 kB frames),
 * prints `READY <url>` and runs until stdin closes.
 */
import { startTestRelay } from '../test/support/relay/server.js';
import { readSyncFixture } from './sync-fixture.js';

const [path, maxLimit] = process.argv.slice(2);
if (!path) throw new Error('usage: sync-relay-process.ts FIXTURE [MAX_LIMIT]');
// Negentropy frames capped at 500 kB, as a production relay would (unlimited frames would put all
// 200,000 ids in one message, beyond a client's payload limit).
const relay = await startTestRelay({ maxLimit: Number(maxLimit ?? 500), keepAllVersions: true, negentropyFrameSizeLimit: 500_000 });
relay.addEvents(await readSyncFixture(path));
process.stdout.write(`READY ${relay.url} ${relay.store.size}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  void relay.close().then(() => process.exit(0));
});
