/**
 * The relay's HTTP(S) server: NIP-11 (right, wrong or redirected), a plain page otherwise, and
 * WebSocket upgrades (or refusals of them).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { misbehaveOnUpgrade } from './misbehaviours.js';
import { nip11Document, nip11Redirect, serveNip11 } from './nip11.js';
import type { RelayState } from './relay-state.js';

export interface RelayServer {
  http: Server;
  wss: WebSocketServer;
  /** Every open TCP connection, to cut them all on close. */
  tcpSockets: Set<Socket>;
}

function handleHttp(relay: RelayState, req: IncomingMessage, res: ServerResponse): void {
  const { behaviour, settings } = relay;
  if (!(req.headers.accept ?? '').includes('application/nostr+json')) {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('bigbrotr test relay: connect with a WebSocket client\n');
    return;
  }
  const location = nip11Redirect(behaviour, req.url);
  if (location !== undefined) {
    res.writeHead(301, { location }).end();
    return;
  }
  const mode = behaviour.nip11Mode.startsWith('redirect') ? 'normal' : behaviour.nip11Mode;
  serveNip11(req, res, nip11Document(settings), mode, behaviour.delayMs);
}

export function createRelayServer(relay: RelayState): RelayServer {
  const tls = relay.settings.tls;
  const onRequest = (req: IncomingMessage, res: ServerResponse) => handleHttp(relay, req, res);
  const http: Server = tls ? createHttpsServer({ key: tls.key, cert: tls.cert }, onRequest) : createServer(onRequest);
  const tcpSockets = new Set<Socket>();
  http.on('connection', (socket: Socket) => {
    relay.counters.tcpConnections += 1;
    tcpSockets.add(socket);
    socket.on('close', () => tcpSockets.delete(socket));
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024 });
  http.on('upgrade', (req: IncomingMessage, socket, head) => {
    if (misbehaveOnUpgrade(relay.behaviour, socket)) return;
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  return { http, wss, tcpSockets };
}

/** Listens on 127.0.0.1 (port 0: any free port) and returns the port. */
export async function listen(http: Server, port: number | undefined): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port ?? 0, '127.0.0.1', () => {
      http.off('error', reject);
      resolve();
    });
  });
  return (http.address() as AddressInfo).port;
}
