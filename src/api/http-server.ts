/** Starts the HTTP app (./app.ts) on host:port, with the archive relay on its WebSocket upgrades. */
import type { AddressInfo } from 'node:net';
import { attachArchiveRelay, type ArchiveRelay } from './archive-relay.js';
import { buildHttpApp, type HttpAppOptions } from './app.js';

export interface HttpServerOptions extends HttpAppOptions {
  host: string;
  port: number;
}

export interface HttpServer {
  /** The bound address, e.g. http://127.0.0.1:9464 (the real port when 0 was asked). */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const app = await buildHttpApp(options);
  let relay: ArchiveRelay | undefined;
  if (options.api && options.api.config().api.relay_enabled) {
    relay = attachArchiveRelay(app.server, { db: options.api.db, config: options.api.config(), logger: options.logger });
  }
  const relayPath = relay ? '/' : undefined;
  // WebSocket upgrades anywhere else (or with the archive relay off) are answered, not left hanging.
  app.server.on('upgrade', (request, socket) => {
    if ((request.url ?? '').split('?')[0] === relayPath) return;
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  app.server.keepAliveTimeout = 5_000;
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close: async () => {
      await relay?.close();
      app.server.closeAllConnections();
      await app.close();
    },
  };
}
