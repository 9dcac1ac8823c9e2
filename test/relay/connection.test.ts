import { afterAll, describe, expect, it } from 'vitest';
import { RelayConnection } from '../../src/relay/connection.js';
import { RelayNetworkError, RelayTimeoutError } from '../../src/relay/errors.js';
import { relaySchema } from '../../src/config/schema.js';
import { startTestRelay, type TestRelay } from '../support/relay/server.js';
import { generateEvents } from '../support/events.js';
import type { NostrEvent } from '../../src/nostr/event.js';

const config = { ...relaySchema.parse({}), connect_timeout_ms: 1_000, request_timeout_ms: 3_000, idle_timeout_ms: 500 };
const relays: TestRelay[] = [];
afterAll(async () => {
  await Promise.all(relays.map((relay) => relay.close()));
});
async function relay(options: Parameters<typeof startTestRelay>[0] = {}): Promise<TestRelay> {
  const started = await startTestRelay(options);
  relays.push(started);
  return started;
}

describe('RelayConnection', () => {
  it('subscribes until EOSE and publishes with OK', async () => {
    const server = await relay();
    server.addEvents(generateEvents({ count: 12 }));
    const connection = await RelayConnection.open({ url: server.url, config });
    const received: unknown[] = [];
    const end = await connection.subscribe([{ limit: 100 }], { onEvent: (event) => received.push(event) });
    expect(end).toEqual({ reason: 'eose' });
    expect(received.length).toBe(12);
    const [fresh] = generateEvents({ count: 1, seed: 'publish' });
    expect(await connection.publish(fresh as NostrEvent)).toEqual({ accepted: true, message: '' });
    connection.close();
    expect(connection.isOpen).toBe(false);
  });

  it('reports CLOSED with its message, idle subscriptions, and dropped connections', async () => {
    const server = await relay({ misbehaviour: { closeSubscriptionAfter: 2 } });
    server.addEvents(generateEvents({ count: 5 }));
    const connection = await RelayConnection.open({ url: server.url, config });
    expect(await connection.subscribe([{}], { onEvent: () => {} })).toEqual({
      reason: 'closed',
      message: 'error: subscription closed by the test relay',
    });
    server.setBehaviour({ closeSubscriptionAfter: -1, neverEose: true });
    expect(await connection.subscribe([{}], { onEvent: () => {} })).toEqual({ reason: 'idle' });
    server.setBehaviour({ neverEose: false, dropAfterEvents: 1 });
    const dropped = await connection.subscribe([{}], { onEvent: () => {} });
    expect(dropped.reason).toBe('disconnected');
    expect(connection.isOpen).toBe(false);
  });

  it('counts garbage frames without failing the subscription', async () => {
    const server = await relay({ misbehaviour: { garbageFrames: true } });
    server.addEvents(generateEvents({ count: 3 }));
    const connection = await RelayConnection.open({ url: server.url, config });
    const invalid: string[] = [];
    connection.on('invalidFrame', (reason) => invalid.push(reason));
    const received: unknown[] = [];
    expect(await connection.subscribe([{}], { onEvent: (event) => received.push(event) })).toEqual({ reason: 'eose' });
    expect(received.length).toBe(3);
    expect(invalid.length).toBeGreaterThanOrEqual(3);
    connection.close();
  });

  it('fails to open with typed errors: refused upgrade, hanging handshake, onion without proxy', async () => {
    const refusing = await relay({ misbehaviour: { refuseUpgrade: true } });
    await expect(RelayConnection.open({ url: refusing.url, config })).rejects.toBeInstanceOf(RelayNetworkError);
    const hanging = await relay({ misbehaviour: { hangHandshake: true } });
    await expect(RelayConnection.open({ url: hanging.url, config })).rejects.toBeInstanceOf(RelayTimeoutError);
    await expect(RelayConnection.open({ url: 'ws://example.onion/', config })).rejects.toThrow(/socks_proxy_url/);
  });
});
