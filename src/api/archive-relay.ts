/**
 * The archive relay: a read-only NIP-01 WebSocket endpoint over the archive, so that any Nostr client
 * can read it. REQ answers with the stored events (newest first) then EOSE, COUNT (NIP-45) with their
 * number; EVENT is refused (OK false, `blocked:`). Subscriptions stay open after EOSE until CLOSE, but
 * nothing is streamed live: they are bookkeeping only.
 *
 * Every client message is untrusted: it is parsed defensively and a bad one gets a NOTICE or a CLOSED
 * with a NIP-01 prefix. Each connection runs its queries one at a time, each in a read-only
 * transaction with a statement timeout, and sends with backpressure so that a slow reader cannot make
 * the server buffer unbounded data.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import { WebSocketServer } from 'ws';
import { Counter, Gauge } from 'prom-client';
import type { Config } from '../config/schema.js';
import type { Database } from '../db/database.js';
import { wrapDatabaseError } from '../db/errors.js';
import { countQuery, eventsQuery, findEvents, type ArchiveFilter } from '../db/event-query.js';
import { isHex64 } from '../nostr/hex.js';
import type { Logger } from '../observability/logger.js';
import { metricsRegistry } from '../observability/metrics.js';
import { ApiTimeoutError, readOnly } from './api-query.js';

export interface ArchiveRelay {
  /** Open client connections. */
  readonly connections: number;
  /** Terminates every client connection, stops accepting new ones and waits for running queries. */
  close(): Promise<void>;
}

export interface ArchiveRelayOptions {
  db: Database;
  config: Config;
  logger: Logger;
  /** The HTTP path whose WebSocket upgrades are ours; default `/`. */
  path?: string;
}

/** NIP-01 allows subscription ids of up to 64 characters. */
const MAX_SUBID_LENGTH = 64;
/** Past this many bytes waiting in the socket buffer, sending waits until the client has read them. */
const SEND_HIGH_WATER_BYTES = 1024 * 1024;
/** A client whose unread replies exceed this (it sends without ever reading) is disconnected. */
const SEND_HARD_LIMIT_BYTES = 8 * 1024 * 1024;
/** Ping interval; a client that has not answered the previous ping by the next one is dropped. */
const HEARTBEAT_MS = 30_000;

// ---------------------------------------------------------------------------------------------------
// Metrics

let metrics: ReturnType<typeof createMetrics> | undefined;

function createMetrics() {
  const registers = [metricsRegistry()];
  return {
    connections: new Gauge({ name: 'bigbrotr_archive_relay_connections', help: 'Open WebSocket connections to the archive relay.', registers }),
    requests: new Counter({
      name: 'bigbrotr_archive_relay_requests_total',
      help: 'Messages from archive relay clients by type (req, count, event, close; invalid for anything refused before it was understood).',
      labelNames: ['type'],
      registers,
    }),
    eventsSent: new Counter({ name: 'bigbrotr_archive_relay_events_sent_total', help: 'Events sent to archive relay clients.', registers }),
  };
}

function relayMetrics(): ReturnType<typeof createMetrics> {
  metrics ??= createMetrics();
  return metrics;
}

// ---------------------------------------------------------------------------------------------------
// NIP-11

/** The NIP-11 document of the archive relay (served on GET / with `Accept: application/nostr+json`). */
export function archiveNip11Document(config: Config, version: string): Record<string, unknown> {
  const api = config.api;
  return {
    name: 'bigbrotr archive',
    description:
      'Read-only Nostr relay over the bigbrotr archive of the Nostr network: REQ returns the archived events matching the filters (newest first) then EOSE, COUNT counts them. Nothing is streamed live and publishing is refused.',
    software: 'bigbrotr',
    version,
    supported_nips: [1, 11, 45],
    limitation: {
      max_message_length: api.relay_max_message_bytes,
      max_subscriptions: api.relay_max_subscriptions,
      max_limit: api.relay_max_limit,
      default_limit: api.relay_max_limit,
      max_subid_length: MAX_SUBID_LENGTH,
      auth_required: false,
      payment_required: false,
      restricted_writes: true,
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Validation of client requests

interface ParsedFilters {
  filters: ArchiveFilter[];
  /** The limit of the initial query: the largest of the filters' limits, capped at relay_max_limit. */
  limit: number;
}

type FilterResult = { ok: true; value: ParsedFilters } | { ok: false; reason: string };

const TAG_KEY = /^#[a-zA-Z]$/;

/** An untrusted name, shortened for a reply (the reply is JSON, so any character is safe in it). */
function shorten(name: string): string {
  return name.length > 40 ? `${name.slice(0, 40)}…` : name;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonNegativeSafeInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Checks the filters of a REQ or COUNT and maps them to archive filters; `reason` starts with a NIP-01 prefix. */
function parseFilters(raw: unknown[], api: Config['api']): FilterResult {
  const fail = (reason: string): FilterResult => ({ ok: false, reason });
  if (raw.length === 0) return fail('invalid: at least one filter is required');
  if (raw.length > api.relay_max_filters) return fail(`invalid: too many filters (max ${api.relay_max_filters})`);
  const maxValues = api.relay_max_filter_values;
  const filters: ArchiveFilter[] = [];
  let limit: number | undefined;
  let anyWithoutLimit = false;
  for (const candidate of raw) {
    if (!isPlainObject(candidate)) return fail('invalid: a filter must be a JSON object');
    const filter: ArchiveFilter = {};
    let filterLimit: number | undefined;
    for (const [key, value] of Object.entries(candidate)) {
      switch (key) {
        case 'ids':
        case 'authors': {
          if (!Array.isArray(value)) return fail(`invalid: ${key} must be an array`);
          if (value.length > maxValues) return fail(`invalid: too many ${key} (max ${maxValues})`);
          if (!value.every(isHex64)) return fail(`invalid: ${key} must be 64 lowercase hex characters`);
          filter[key] = value as string[];
          break;
        }
        case 'kinds': {
          if (!Array.isArray(value)) return fail('invalid: kinds must be an array');
          if (value.length > maxValues) return fail(`invalid: too many kinds (max ${maxValues})`);
          if (!value.every((kind) => typeof kind === 'number' && Number.isInteger(kind) && kind >= 0 && kind <= 65_535)) {
            return fail('invalid: kinds must be integers from 0 to 65535');
          }
          filter.kinds = value as number[];
          break;
        }
        case 'since':
        case 'until': {
          if (!isNonNegativeSafeInt(value)) return fail(`invalid: ${key} must be a non-negative integer timestamp`);
          filter[key] = value;
          break;
        }
        case 'limit': {
          if (!isNonNegativeSafeInt(value)) return fail('invalid: limit must be a non-negative integer');
          filterLimit = value;
          break;
        }
        case 'search':
          return fail('unsupported: search is not supported');
        default: {
          if (!TAG_KEY.test(key)) return fail(`invalid: unknown filter field ${shorten(key)}`);
          if (!Array.isArray(value)) return fail(`invalid: ${key} must be an array`);
          if (value.length > maxValues) return fail(`invalid: too many ${key} values (max ${maxValues})`);
          if (!value.every((item) => typeof item === 'string')) return fail(`invalid: ${key} values must be strings`);
          filter.tags ??= {};
          filter.tags[key.slice(1)] = value as string[];
        }
      }
    }
    filters.push(filter);
    if (filterLimit === undefined) anyWithoutLimit = true;
    else limit = Math.max(limit ?? 0, filterLimit);
  }
  const requested = anyWithoutLimit || limit === undefined ? api.relay_max_limit : limit;
  return { ok: true, value: { filters, limit: Math.min(requested, api.relay_max_limit) } };
}

// ---------------------------------------------------------------------------------------------------
// Connections

interface Subscription {
  closed: boolean;
}

interface Client {
  socket: WebSocket;
  subscriptions: Map<string, Subscription>;
  /** The tail of this connection's work queue (queries run one at a time per connection). */
  queue: Promise<void>;
  pending: number;
  alive: boolean;
  isOpen: boolean;
  /** Resolves once the socket has closed. */
  closed: Promise<void>;
}

const NEGENTROPY_TYPES = new Set(['NEG-OPEN', 'NEG-MSG', 'NEG-CLOSE', 'NEG-ERR']);

function pathOf(url: string | undefined): string {
  return (url ?? '/').split('?', 1)[0] ?? '/';
}

function refuseUpgrade(socket: Duplex, status: string): void {
  socket.on('error', () => socket.destroy());
  const body = `${status}\n`;
  socket.write(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, () => socket.destroy());
}

function rawText(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** Why the database failed, in words safe to show a client (no SQL, no connection details). */
function failureSummary(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (error instanceof ApiTimeoutError || code === '57014') return 'query timed out';
  return 'internal error';
}

export function attachArchiveRelay(server: Server, options: ArchiveRelayOptions): ArchiveRelay {
  const { db, config, logger } = options;
  const api = config.api;
  const path = options.path ?? '/';
  const log = logger.child({ component: 'archive-relay' });
  const relayMetricsSet = relayMetrics();
  const maxPending = api.relay_max_subscriptions * 2;
  const statementTimeoutMs = Number(api.statement_timeout_ms);

  const wss = new WebSocketServer({ noServer: true, maxPayload: api.relay_max_message_bytes, perMessageDeflate: false, clientTracking: false });
  const clients = new Set<Client>();
  /** Sockets between the accepted upgrade request and the finished handshake. */
  const upgrading = new Set<Duplex>();
  let shuttingDown = false;

  // -- sending

  /** Sends without waiting; a client that never reads its replies is disconnected. */
  function reply(client: Client, message: unknown[]): void {
    if (!client.isOpen) return;
    client.socket.send(JSON.stringify(message), () => {});
    if (client.socket.bufferedAmount > SEND_HARD_LIMIT_BYTES) {
      log.debug('archive relay client does not read its replies; disconnecting');
      client.socket.terminate();
    }
  }

  /** Sends and, when the socket buffer is above the high-water mark, waits for the client to read. False once the socket is gone. */
  async function send(client: Client, message: unknown[]): Promise<boolean> {
    if (!client.isOpen) return false;
    const written = new Promise<boolean>((resolve) => client.socket.send(JSON.stringify(message), (error) => resolve(!error)));
    if (client.socket.bufferedAmount <= SEND_HIGH_WATER_BYTES) return true;
    const ok = await Promise.race([written, client.closed.then(() => false)]);
    return ok && client.isOpen;
  }

  // -- queries

  function enqueue(client: Client, job: () => Promise<void>): boolean {
    if (client.pending >= maxPending) return false;
    client.pending += 1;
    client.queue = client.queue
      .then(job)
      .catch((error: unknown) => log.warn({ err: wrapDatabaseError(error, 'archive relay request') }, 'archive relay request failed'))
      .finally(() => {
        client.pending -= 1;
      });
    return true;
  }

  /** Logs a failed query (the log is redacted) and tells the client, without details, if it still listens. */
  function answerFailure(client: Client, subId: string, error: unknown, what: string, stillWanted: boolean): void {
    log.warn({ err: wrapDatabaseError(error, `archive relay ${what}`) }, `archive relay ${what} failed`);
    if (stillWanted && client.isOpen) reply(client, ['CLOSED', subId, `error: the archive could not answer (${failureSummary(error)})`]);
  }

  function closeSubscription(client: Client, subId: string): void {
    const existing = client.subscriptions.get(subId);
    if (!existing) return;
    existing.closed = true;
    client.subscriptions.delete(subId);
  }

  async function runSubscription(client: Client, subId: string, subscription: Subscription, parsed: ParsedFilters): Promise<void> {
    if (subscription.closed || !client.isOpen) return;
    let events;
    try {
      events = parsed.limit === 0 ? [] : await readOnly(db, statementTimeoutMs, (tx) => findEvents(tx, eventsQuery(parsed.filters, parsed.limit)));
    } catch (error) {
      const stillWanted = !subscription.closed;
      if (client.subscriptions.get(subId) === subscription) client.subscriptions.delete(subId);
      subscription.closed = true;
      answerFailure(client, subId, error, 'query', stillWanted);
      return;
    }
    for (const event of events) {
      if (subscription.closed) return;
      if (!(await send(client, ['EVENT', subId, event]))) return;
      relayMetricsSet.eventsSent.inc();
    }
    if (!subscription.closed) await send(client, ['EOSE', subId]);
  }

  async function runCount(client: Client, subId: string, parsed: ParsedFilters): Promise<void> {
    if (!client.isOpen) return;
    let count: number;
    try {
      const query = countQuery(parsed.filters);
      const { rows } = await readOnly(db, statementTimeoutMs, (tx) => tx.query<{ count: number | string }>(query.text, query.values));
      count = Number(rows[0]?.count ?? 0);
    } catch (error) {
      answerFailure(client, subId, error, 'count', true);
      return;
    }
    await send(client, ['COUNT', subId, { count }]);
  }

  // -- messages

  /** The subscription id of a REQ/COUNT/CLOSE, or undefined after telling the client what is wrong. */
  function checkSubId(client: Client, value: unknown): string | undefined {
    if (typeof value !== 'string') {
      reply(client, ['NOTICE', 'invalid: the subscription id must be a string']);
      return undefined;
    }
    if (value.length < 1 || value.length > MAX_SUBID_LENGTH) {
      closeSubscription(client, value);
      reply(client, ['CLOSED', value, `invalid: the subscription id must have 1 to ${MAX_SUBID_LENGTH} characters`]);
      return undefined;
    }
    return value;
  }

  function onReq(client: Client, message: unknown[]): void {
    const subId = checkSubId(client, message[1]);
    if (subId === undefined) return;
    const parsed = parseFilters(message.slice(2), api);
    if (!parsed.ok) {
      closeSubscription(client, subId);
      reply(client, ['CLOSED', subId, parsed.reason]);
      return;
    }
    const replacing = client.subscriptions.has(subId);
    if (!replacing && client.subscriptions.size >= api.relay_max_subscriptions) {
      reply(client, ['CLOSED', subId, `blocked: too many subscriptions (max ${api.relay_max_subscriptions})`]);
      return;
    }
    if (replacing) closeSubscription(client, subId);
    const subscription: Subscription = { closed: false };
    client.subscriptions.set(subId, subscription);
    if (!enqueue(client, () => runSubscription(client, subId, subscription, parsed.value))) {
      closeSubscription(client, subId);
      reply(client, ['CLOSED', subId, 'rate-limited: too many requests in progress; wait for their answers']);
    }
  }

  function onCount(client: Client, message: unknown[]): void {
    const subId = checkSubId(client, message[1]);
    if (subId === undefined) return;
    const parsed = parseFilters(message.slice(2), api);
    if (!parsed.ok) {
      reply(client, ['CLOSED', subId, parsed.reason]);
      return;
    }
    if (!enqueue(client, () => runCount(client, subId, parsed.value))) {
      reply(client, ['CLOSED', subId, 'rate-limited: too many requests in progress; wait for their answers']);
    }
  }

  function onMessage(client: Client, data: WebSocket.RawData, isBinary: boolean): void {
    const invalid = (reason: string) => {
      relayMetricsSet.requests.inc({ type: 'invalid' });
      reply(client, ['NOTICE', reason]);
    };
    if (isBinary) return invalid('invalid: binary messages are not supported');
    let message: unknown;
    try {
      message = JSON.parse(rawText(data));
    } catch {
      return invalid('invalid: the message is not JSON');
    }
    if (!Array.isArray(message) || typeof message[0] !== 'string') return invalid('invalid: a message must be a JSON array starting with its type');
    const type = message[0];
    switch (type) {
      case 'REQ':
        relayMetricsSet.requests.inc({ type: 'req' });
        return onReq(client, message);
      case 'COUNT':
        relayMetricsSet.requests.inc({ type: 'count' });
        return onCount(client, message);
      case 'CLOSE': {
        relayMetricsSet.requests.inc({ type: 'close' });
        if (typeof message[1] !== 'string') return reply(client, ['NOTICE', 'invalid: CLOSE needs a subscription id']);
        return closeSubscription(client, message[1]);
      }
      case 'EVENT': {
        relayMetricsSet.requests.inc({ type: 'event' });
        const id = isPlainObject(message[1]) && typeof message[1].id === 'string' ? message[1].id : '';
        return reply(client, ['OK', id, false, 'blocked: this is a read-only archive']);
      }
      case 'AUTH':
        return invalid('unsupported: AUTH is not needed here');
      default:
        if (NEGENTROPY_TYPES.has(type)) return invalid(`unsupported: ${type} (NIP-77 negentropy) is not supported`);
        return invalid(`invalid: unknown message type ${JSON.stringify(shorten(type))}`);
    }
  }

  // -- connection lifecycle

  function accept(socket: WebSocket, request: IncomingMessage): void {
    let markClosed: () => void = () => {};
    const client: Client = {
      socket,
      subscriptions: new Map(),
      queue: Promise.resolve(),
      pending: 0,
      alive: true,
      isOpen: true,
      closed: new Promise<void>((resolve) => {
        markClosed = resolve;
      }),
    };
    clients.add(client);
    relayMetricsSet.connections.inc();
    log.debug({ address: request.socket.remoteAddress }, 'archive relay client connected');
    socket.on('message', (data, isBinary) => {
      try {
        onMessage(client, data, isBinary);
      } catch (error) {
        // Nothing above should throw; if it does, the client loses its connection, not the process.
        log.error({ err: error }, 'archive relay message handling failed');
        socket.terminate();
      }
    });
    socket.on('pong', () => {
      client.alive = true;
    });
    // Oversized (1009) or malformed frames: `ws` closes the connection itself, and reports it here.
    socket.on('error', (error) => log.debug({ err: error }, 'archive relay client connection error'));
    socket.on('close', () => {
      client.isOpen = false;
      for (const subscription of client.subscriptions.values()) subscription.closed = true;
      client.subscriptions.clear();
      clients.delete(client);
      relayMetricsSet.connections.dec();
      markClosed();
    });
  }

  function onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (pathOf(request.url) !== path) return;
    if (shuttingDown || clients.size + upgrading.size >= api.relay_max_connections) {
      refuseUpgrade(socket, '503 Service Unavailable');
      return;
    }
    upgrading.add(socket);
    socket.once('close', () => upgrading.delete(socket));
    wss.handleUpgrade(request, socket, head, (webSocket) => {
      upgrading.delete(socket);
      if (shuttingDown) {
        webSocket.terminate();
        return;
      }
      accept(webSocket, request);
    });
  }

  server.on('upgrade', onUpgrade);

  const heartbeat = setInterval(() => {
    for (const client of clients) {
      if (!client.alive) {
        client.socket.terminate();
        continue;
      }
      client.alive = false;
      client.socket.ping();
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  let closing: Promise<void> | undefined;
  return {
    get connections() {
      return clients.size;
    },
    close() {
      closing ??= (async () => {
        shuttingDown = true;
        server.off('upgrade', onUpgrade);
        clearInterval(heartbeat);
        for (const socket of upgrading) socket.destroy();
        const open = [...clients];
        for (const client of open) client.socket.terminate();
        await Promise.all(open.map((client) => client.closed));
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        // Queries already running finish (bounded by the statement timeout) before the database may close.
        await Promise.all(open.map((client) => client.queue));
      })();
      return closing;
    },
  };
}
