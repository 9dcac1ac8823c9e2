/**
 * Hosts a share of the network benchmark's relays in one process (bench/network.ts starts a few of
 * these, so relays do not share the measured processes' CPU time accounting): reads the plan, loads
 * the cached events, recomputes where each event lives, starts its relays on their planned ports,
 * fills them, prints `READY <relays> <events held>` and runs until stdin closes.
 */
import { readFileSync } from 'node:fs';
import type { NostrEvent } from '../src/nostr/event.js';
import { startTestRelay, type TestRelay } from '../src/test-relay/server.js';
import { placeEvents, readNetworkEvents, relayOptions, type NetworkPlan } from './network-fixture.js';

const [planPath, hostText, hostsText] = process.argv.slice(2);
if (!planPath || hostText === undefined || hostsText === undefined) throw new Error('usage: network-relays-process.ts PLAN HOST HOSTS');
const host = Number(hostText);
const hosts = Number(hostsText);
const plan = JSON.parse(readFileSync(planPath, 'utf8')) as NetworkPlan;

const mine = plan.relays.filter((relay) => relay.role !== 'dead' && relay.index % hosts === host);
const held = new Map<number, NostrEvent[]>(mine.map((relay) => [relay.index, []]));
const events = await readNetworkEvents(plan.eventsPath);
const placement = placeEvents(plan.relays, events.length, plan.seed);
placement.forEach((relays, index) => {
  for (const relay of relays) held.get(relay)?.push(events[index] as NostrEvent);
});
for (const list of plan.relayLists) for (const relay of list.relays) held.get(relay)?.push(list.event);

const started: TestRelay[] = [];
let total = 0;
for (const relay of mine) {
  const server = await startTestRelay({ ...relayOptions(relay), port: plan.ports[relay.index] as number });
  const contents = held.get(relay.index) ?? [];
  server.store.addMany(contents);
  total += server.store.size;
  started.push(server);
}
held.clear();
process.stdout.write(`READY ${started.length} ${total}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  void Promise.all(started.map((server) => server.close())).then(() => process.exit(0));
});
