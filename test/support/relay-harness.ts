/**
 * Test relays and raw WebSocket clients that close themselves: clients after each test, relays
 * after the file. Call once at the top of a test file.
 */
import { afterAll, afterEach } from 'vitest';
import { startTestRelay, type TestRelay } from './relay/server.js';
import { connectRaw, type RawClient } from './relay-client.js';

export function relayHarness(): {
  relay(options?: Parameters<typeof startTestRelay>[0]): Promise<TestRelay>;
  client(target: TestRelay): Promise<RawClient>;
} {
  const relays: TestRelay[] = [];
  const clients: RawClient[] = [];
  afterEach(() => {
    for (const connected of clients.splice(0)) connected.close();
  });
  afterAll(async () => {
    await Promise.all(relays.map((started) => started.close()));
  });
  return {
    async relay(options = {}) {
      const started = await startTestRelay(options);
      relays.push(started);
      return started;
    },
    async client(target) {
      const connected = await connectRaw(target.url);
      clients.push(connected);
      return connected;
    },
  };
}
