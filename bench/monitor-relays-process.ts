/**
 * The monitor benchmark's relays, in their own process so that the measured process's CPU and
 * memory are the monitor's alone: BENCH_MONITOR_RELAYS endpoints on 127.0.0.1 (default 500) in a fixed
 * mix: healthy relays, slow ones (every message delayed, NIP-11 after 2 s), dead ports (nothing
 * listening), relays sending garbage (junk frames, HTML or broken NIP-11), relays that accept TCP but
 * never finish the WebSocket handshake, and relays that never answer REQ or EVENT. Prints one line
 * `READY <json {kind: urls[]}>` and runs until stdin closes.
 */
import { freePort } from '../test/support/free-port.js';
import { startTestRelay, type TestRelay } from '../test/support/relay/server.js';

const total = Number(process.argv[2] ?? 500);
const mix = { healthy: 0.7, slow: 0.1, dead: 0.08, garbage: 0.06, hanging: 0.03, silent: 0.03 };

const relays: TestRelay[] = [];
const urls: Record<string, string[]> = {};
const counts = Object.entries(mix).map(([kind, share]) => [kind, Math.round(total * share)] as const);
const assigned = counts.reduce((sum, [, count]) => sum + count, 0);
(counts[0] as unknown as [string, number])[1] += total - assigned;
for (const [kind, count] of counts) {
  urls[kind] = [];
  for (let index = 0; index < count; index += 1) {
    if (kind === 'dead') {
      (urls[kind] as string[]).push(`ws://127.0.0.1:${await freePort()}/`);
      continue;
    }
    const relay = await startTestRelay({
      misbehaviour:
        kind === 'slow'
          ? { delayMs: 1_500, nip11Mode: 'slow' }
          : kind === 'garbage'
            ? { garbageFrames: true, nip11Mode: index % 2 ? 'html' : 'invalid-json', refuseWrites: 'invalid: ???' }
            : kind === 'hanging'
              ? { hangHandshake: true }
              : kind === 'silent'
                ? { neverEose: true, noOk: true }
                : {},
    });
    relays.push(relay);
    (urls[kind] as string[]).push(relay.url);
  }
}
process.stdout.write(`READY ${JSON.stringify(urls)}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  void Promise.all(relays.map((relay) => relay.close())).then(() => process.exit(0));
});
