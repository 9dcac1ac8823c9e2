/**
 * The WebSocket side of the archive relay: takes the HTTP upgrades on its path within the connection
 * limits, gives each connection a Session, hands its messages on, keeps connections alive or drops
 * them (heartbeat), and closes everything on shutdown.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import { WebSocketServer } from 'ws';
import type { ApiConfig } from '../../config/schema.js';
import type { Logger } from '../../observability/logger.js';
import { AddressCounts } from './address-counts.js';
import type { RelayMetrics } from './metrics.js';
import type { RequestRate } from './request-rate.js';
import { Session, type SessionSettings } from './session.js';

/** Ping interval; a client that has not answered the previous ping by the next one is dropped. */
const HEARTBEAT_MS = 30_000;

export interface SocketServerSettings {
  /** The HTTP path whose WebSocket upgrades are ours. */
  path: string;
  api: ApiConfig;
  log: Logger;
  metrics: RelayMetrics;
  /** The open connections (filled and emptied here, read by the live tail). */
  sessions: Set<Session>;
  session: SessionSettings;
  /** Its idle addresses are forgotten at each heartbeat. */
  requestRate: RequestRate;
  /** Handles one message; a throw costs the client its connection. */
  onMessage(session: Session, data: WebSocket.RawData, isBinary: boolean): void;
}

function pathOf(url: string | undefined): string {
  return (url ?? '/').split('?', 1)[0] ?? '/';
}

function refuseUpgrade(socket: Duplex, status: string): void {
  socket.on('error', () => socket.destroy());
  const body = `${status}\n`;
  const headers = `Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}`;
  socket.write(`HTTP/1.1 ${status}\r\n${headers}\r\n\r\n${body}`, () => socket.destroy());
}

export class RelaySocketServer {
  private readonly wss: WebSocketServer;
  private readonly perAddress = new AddressCounts();
  /** Sockets between the accepted upgrade request and the finished handshake. */
  private readonly upgrading = new Set<Duplex>();
  private shuttingDown = false;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => this.upgrade(request, socket, head);

  constructor(
    private readonly server: Server,
    private readonly settings: SocketServerSettings,
  ) {
    const api = settings.api;
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: api.relay_max_message_bytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
    server.on('upgrade', this.onUpgrade);
    this.heartbeat = setInterval(() => this.beat(), Math.min(HEARTBEAT_MS, api.relay_idle_seconds * 1000));
    this.heartbeat.unref();
  }

  /** Stops accepting, terminates every connection and waits until they have closed; returns the sessions that were open. */
  async close(): Promise<Session[]> {
    this.shuttingDown = true;
    this.server.off('upgrade', this.onUpgrade);
    clearInterval(this.heartbeat);
    for (const socket of this.upgrading) socket.destroy();
    const open = [...this.settings.sessions];
    for (const session of open) session.socket.terminate();
    await Promise.all(open.map((session) => session.closed));
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    return open;
  }

  private upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const { api, metrics, path, sessions } = this.settings;
    if (pathOf(request.url) !== path) return;
    if (this.shuttingDown || sessions.size + this.upgrading.size >= api.relay_max_connections) {
      refuseUpgrade(socket, '503 Service Unavailable');
      return;
    }
    const address = request.socket.remoteAddress ?? 'unknown';
    if (this.perAddress.of(address) >= api.relay_max_connections_per_address) {
      metrics.refused.inc({ reason: 'per-address' });
      refuseUpgrade(socket, '429 Too Many Requests');
      return;
    }
    // Counted from the upgrade on, so a burst of handshakes cannot exceed the per-address bound.
    this.perAddress.add(address);
    this.upgrading.add(socket);
    let accepted = false;
    socket.once('close', () => {
      this.upgrading.delete(socket);
      if (!accepted) this.perAddress.release(address);
    });
    this.wss.handleUpgrade(request, socket, head, (webSocket) => {
      this.upgrading.delete(socket);
      accepted = true;
      if (this.shuttingDown) {
        webSocket.terminate();
        return;
      }
      this.accept(webSocket, request, address);
    });
  }

  private accept(socket: WebSocket, request: IncomingMessage, address: string): void {
    const { log, metrics, sessions } = this.settings;
    const session = new Session(socket, address, this.settings.session);
    sessions.add(session);
    metrics.connections.inc();
    log.debug({ address: request.socket.remoteAddress }, 'archive relay client connected');
    socket.on('message', (data, isBinary) => this.receive(session, data, isBinary));
    socket.on('pong', () => {
      session.alive = true;
    });
    // Oversized (1009) or malformed frames: `ws` closes the connection itself, and reports it here.
    socket.on('error', (error) => log.debug({ err: error }, 'archive relay client connection error'));
    socket.on('close', () => {
      session.end();
      sessions.delete(session);
      this.perAddress.release(address);
      metrics.connections.dec();
    });
  }

  private receive(session: Session, data: WebSocket.RawData, isBinary: boolean): void {
    session.lastMessageAt = Date.now();
    try {
      this.settings.onMessage(session, data, isBinary);
    } catch (error) {
      // Nothing above should throw; if it does, the client loses its connection, not the process.
      this.settings.log.error({ err: error }, 'archive relay message handling failed');
      session.socket.terminate();
    }
  }

  /** Pings every connection, drops those that did not answer the last ping or sit idle, and forgets idle addresses' request counts. */
  private beat(): void {
    const idleBefore = Date.now() - this.settings.api.relay_idle_seconds * 1000;
    for (const session of this.settings.sessions) {
      // Pongs keep a connection alive only while it also uses it: idle ones are closed.
      if (!session.alive || (session.lastMessageAt < idleBefore && session.pending === 0 && !session.waitsForLiveEvents())) {
        session.socket.terminate();
        continue;
      }
      session.alive = false;
      session.socket.ping();
    }
    this.settings.requestRate.forgetIdle();
  }
}
