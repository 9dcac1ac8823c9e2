/** A bare WebSocket client for tests of the test relay: send messages, collect what comes back. */
import WebSocket from 'ws';

export interface RawClient {
  socket: WebSocket;
  messages: unknown[];
  send(message: unknown[]): void;
  /** Resolves with the first received message (from now on, or already received) matching `predicate`. */
  waitFor(predicate: (message: unknown[]) => boolean, timeoutMs?: number): Promise<unknown[]>;
  /** Sends REQ and collects EVENTs until EOSE or CLOSED. */
  req(subId: string, ...filters: object[]): Promise<{ events: { id: string; created_at: number }[]; end: unknown[] }>;
  close(): void;
}

export async function connectRaw(url: string): Promise<RawClient> {
  const socket = new WebSocket(url);
  const messages: unknown[] = [];
  const listeners = new Set<(message: unknown[]) => void>();
  socket.on('message', (data, isBinary) => {
    let message: unknown = isBinary ? ['BINARY'] : undefined;
    if (!isBinary) {
      try {
        message = JSON.parse(data.toString());
      } catch {
        message = ['GARBAGE', data.toString()];
      }
    }
    messages.push(message);
    if (Array.isArray(message)) for (const listener of listeners) listener(message);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const client: RawClient = {
    socket,
    messages,
    send: (message) => socket.send(JSON.stringify(message)),
    waitFor: (predicate, timeoutMs = 5_000) =>
      new Promise((resolve, reject) => {
        const existing = messages.find((message) => Array.isArray(message) && predicate(message));
        if (existing) return resolve(existing as unknown[]);
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error('timed out waiting for a relay message'));
        }, timeoutMs);
        const listener = (message: unknown[]) => {
          if (!predicate(message)) return;
          clearTimeout(timer);
          listeners.delete(listener);
          resolve(message);
        };
        listeners.add(listener);
      }),
    req: async (subId, ...filters) => {
      const start = messages.length;
      client.send(['REQ', subId, ...filters]);
      const end = await client.waitFor((message) => (message[0] === 'EOSE' || message[0] === 'CLOSED') && message[1] === subId);
      // Only what arrived before the end message counts (more may have arrived since).
      const events = messages
        .slice(start, messages.indexOf(end))
        .filter((message): message is unknown[] => Array.isArray(message) && message[0] === 'EVENT' && message[1] === subId)
        .map((message) => message[2] as { id: string; created_at: number });
      return { events, end };
    },
    close: () => socket.terminate(),
  };
  return client;
}
