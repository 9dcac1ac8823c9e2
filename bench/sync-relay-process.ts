/**
 * The sync benchmark's relay, in its own process so that the measured process's memory and CPU are
 * the synchronizer's alone: loads the fixture, starts the test relay (cap 500, every version kept),
 * prints `READY <url>` and runs until stdin closes.
 */
import { startTestRelay } from '../test/support/relay/server.js';
import { readSyncFixture } from './sync-fixture.js';

const [path, maxLimit] = process.argv.slice(2);
if (!path) throw new Error('usage: sync-relay-process.ts FIXTURE [MAX_LIMIT]');
const relay = await startTestRelay({ maxLimit: Number(maxLimit ?? 500), keepAllVersions: true });
relay.addEvents(await readSyncFixture(path));
process.stdout.write(`READY ${relay.url} ${relay.store.size}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  void relay.close().then(() => process.exit(0));
});
