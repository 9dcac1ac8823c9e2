/**
 * The operations HTTP server: `/metrics` (Prometheus text), `/healthz` (the process answers) and
 * `/readyz` (the database answers within the configured timeout). Later the API mounts its routes
 * beside these.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.js';

export interface HealthServerOptions {
  host: string;
  port: number;
  registry: Registry;
  /** Resolves when the database answers; rejects (or times out) when it does not. */
  checkReady: () => Promise<void>;
  readinessTimeoutMs: number;
  logger: Logger;
}

export interface HealthServer {
  /** The bound address, e.g. http://127.0.0.1:9464 (the real port when 0 was asked). */
  url: string;
  port: number;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(body);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (value) => { clearTimeout(timer); resolve(value); },
      (error: unknown) => { clearTimeout(timer); reject(error instanceof Error ? error : new Error(String(error))); },
    );
  });
}

async function handle(options: HealthServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n');
  switch (path) {
    case '/metrics':
      return send(res, 200, options.registry.contentType, await options.registry.metrics());
    case '/healthz':
      return send(res, 200, 'application/json', JSON.stringify({ status: 'ok' }));
    case '/readyz':
      try {
        await withTimeout(options.checkReady(), options.readinessTimeoutMs);
        return send(res, 200, 'application/json', JSON.stringify({ status: 'ready', database: 'ok' }));
      } catch (error) {
        options.logger.warn({ err: error }, 'readiness check failed: database not reachable');
        return send(res, 503, 'application/json', JSON.stringify({ status: 'not ready', database: 'unreachable' }));
      }
    default:
      return send(res, 404, 'text/plain', 'not found\n');
  }
}

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    handle(options, req, res).catch((error: unknown) => {
      options.logger.error({ err: error }, 'health server request failed');
      if (!res.headersSent) send(res, 500, 'text/plain', 'internal error\n');
      else res.end();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
