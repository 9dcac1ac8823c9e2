/**
 * A small real SOCKS5 server on 127.0.0.1 standing in for an overlay network's proxy (Tor's
 * SocksPort, i2pd's SOCKS proxy, a Lokinet host): CONNECT requests for names ending in one of
 * `suffixes` (default `.onion`) are connected to 127.0.0.1 on the requested port, as the network
 * would reach the hidden service; others are refused as unreachable. It records every destination
 * asked for, so a test can see what went through it. No authentication.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface OnionSocksProxy {
  url: string;
  /** `host:port` of every CONNECT request, in order. */
  requests: string[];
  close(): Promise<void>;
}

function readDestination(request: Buffer): { host: string; port: number } | undefined {
  // VER CMD RSV ATYP DST.ADDR DST.PORT
  if (request.length < 7 || request[0] !== 5 || request[1] !== 1) return undefined;
  const type = request[3];
  if (type === 3) {
    const length = request[4] as number;
    if (request.length < 5 + length + 2) return undefined;
    return { host: request.subarray(5, 5 + length).toString('ascii'), port: request.readUInt16BE(5 + length) };
  }
  if (type === 1 && request.length >= 10) return { host: [...request.subarray(4, 8)].join('.'), port: request.readUInt16BE(8) };
  return undefined;
}

export async function startOnionSocksProxy(suffixes: string[] = ['.onion']): Promise<OnionSocksProxy> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    let stage: 'greeting' | 'request' | 'piped' = 'greeting';
    let buffered = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      if (stage === 'piped') return;
      buffered = Buffer.concat([buffered, chunk]);
      if (stage === 'greeting') {
        if (buffered.length < 2 || buffered.length < 2 + (buffered[1] as number)) return;
        if (buffered[0] !== 5) return void client.destroy();
        const methods = [...buffered.subarray(2, 2 + (buffered[1] as number))];
        buffered = buffered.subarray(2 + (buffered[1] as number));
        if (!methods.includes(0)) return void client.end(Buffer.from([5, 0xff]));
        client.write(Buffer.from([5, 0]));
        stage = 'request';
      }
      if (stage === 'request') {
        const destination = readDestination(buffered);
        if (!destination) return;
        requests.push(`${destination.host}:${destination.port}`);
        const reachable = suffixes.some((suffix) => destination.host.endsWith(suffix)) || destination.host === '127.0.0.1';
        if (!reachable) return void client.end(Buffer.from([5, 4, 0, 1, 0, 0, 0, 0, 0, 0])); // host unreachable
        stage = 'piped';
        client.pause();
        const upstream = connect(destination.port, '127.0.0.1');
        sockets.add(upstream);
        upstream.on('close', () => sockets.delete(upstream));
        upstream.once('connect', () => {
          client.write(Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 0]));
          client.pipe(upstream);
          upstream.pipe(client);
          client.resume();
        });
        upstream.on('error', () => {
          if (!client.destroyed) client.end(Buffer.from([5, 5, 0, 1, 0, 0, 0, 0, 0, 0])); // connection refused
        });
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `socks5h://127.0.0.1:${port}`,
    requests,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
