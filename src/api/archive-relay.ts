/**
 * The archive relay: a read-only NIP-01 WebSocket endpoint over the archive, so that any Nostr client
 * can read it. REQ answers with the stored events (newest first) then EOSE, COUNT (NIP-45) with their
 * number; EVENT is refused (OK false, `blocked:`). After EOSE a subscription stays open until CLOSE and
 * receives events archived since its REQ that match its filters, as on any relay: one tail of the
 * archive (`archived_at` order, polled every `api.relay_live_poll_ms`) serves every subscriber.
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
import {
  archiveNow,
  comparePositions,
  countQuery,
  eventsArchivedAfter,
  matchesArchiveFilter,
  type ArchiveFilter,
  type ArchivePosition,
} from '../db/event-query.js';
import { searchEventsJson } from '../db/event-search.js';
import type { NostrEvent } from '../nostr/event.js';
import { isPlainObject, parseClientFilters, shorten, type ParsedFilters } from '../nostr/client-filters.js';
import type { Logger } from '../observability/logger.js';
import { metricsRegistry } from '../observability/metrics.js';
import { ApiTimeoutError, isStatementTimeout, readOnly } from './api-query.js';

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
/** Bytes of the EVENT messages of events[from..] (what a slow client makes us hold). */
function heldSize(events: readonly string[], from: number, prefixBytes: number): number {
  let bytes = 0;
  for (let index = from; index < events.length; index += 1) bytes += prefixBytes + 1 + Buffer.byteLength(events[index] as string);
  return bytes;
}

/**
 * The TCP socket under a `ws` connection (its `_socket`), so that the EVENT messages of a query can
 * be written as one buffer of frames. Undefined if `ws` ever stops exposing it: then each message
 * goes through `ws.send`, as every other reply does.
 */
function rawSocket(socket: WebSocket): Duplex | undefined {
  const raw = (socket as unknown as { _socket?: Partial<Duplex> })._socket;
  return raw && typeof raw.write === 'function' ? (raw as Duplex) : undefined;
}

/** EVENT messages are written to the socket in buffers of about this many bytes. */
const BATCH_BYTES = 64 * 1024;

/**
 * Writes EVENT messages events[from..] as RFC 6455 frames (final, text, unmasked as a server's are;
 * the `ws` server negotiates no extension: permessage-deflate is off) into one buffer, until it holds
 * BATCH_BYTES or the messages end; returns the index after the last one written. One write of many
 * frames instead of one `ws.send` (two writes) per message: measured, the per-message path spent a
 * sixth of the relay's CPU in writev and most of the rest in per-message bookkeeping.
 */
function writeEventFrames(raw: Duplex, prefix: Buffer, events: readonly string[], from: number): number {
  let end = from;
  let total = 0;
  const lengths: number[] = [];
  while (end < events.length && total < BATCH_BYTES) {
    const length = prefix.length + Buffer.byteLength(events[end] as string) + 1;
    lengths.push(length);
    total += (length < 126 ? 2 : length < 65_536 ? 4 : 10) + length;
    end += 1;
  }
  const batch = Buffer.allocUnsafe(total);
  let offset = 0;
  for (let index = from; index < end; index += 1) {
    const length = lengths[index - from] as number;
    batch[offset] = 0x81;
    if (length < 126) {
      batch[offset + 1] = length;
      offset += 2;
    } else if (length < 65_536) {
      batch[offset + 1] = 126;
      batch.writeUInt16BE(length, offset + 2);
      offset += 4;
    } else {
      batch[offset + 1] = 127;
      batch.writeUInt32BE(0, offset + 2);
      batch.writeUInt32BE(length, offset + 6);
      offset += 10;
    }
    offset += prefix.copy(batch, offset);
    offset += batch.write(events[index] as string, offset);
    batch[offset] = 0x5d; // ]
    offset += 1;
  }
  raw.write(batch);
  return end;
}

/** Ping interval; a client that has not answered the previous ping by the next one is dropped. */
const HEARTBEAT_MS = 30_000;

// ---------------------------------------------------------------------------------------------------
// Metrics

let metrics: ReturnType<typeof createMetrics> | undefined;

function createMetrics() {
  const registers = [metricsRegistry()];
  return {
    connections: new Gauge({
      name: 'bigbrotr_archive_relay_connections',
      help: 'Open WebSocket connections to the archive relay.',
      registers,
    }),
    requests: new Counter({
      name: 'bigbrotr_archive_relay_requests_total',
      help: 'Messages from archive relay clients by type (req, count, event, close; invalid for anything refused before it was understood).',
      labelNames: ['type'],
      registers,
    }),
    eventsSent: new Counter({ name: 'bigbrotr_archive_relay_events_sent_total', help: 'Events sent to archive relay clients.', registers }),
    dropped: new Counter({
      name: 'bigbrotr_archive_relay_dropped_total',
      help: 'Archive relay clients disconnected because they did not read their replies (past relay_send_budget_bytes).',
      registers,
    }),
    refused: new Counter({
      name: 'bigbrotr_archive_relay_refused_total',
      help: 'Archive relay connections refused, by reason (per-address: relay_max_connections_per_address).',
      labelNames: ['reason'],
      registers,
    }),
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
      api.relay_live_poll_ms > 0
        ? 'Read-only Nostr relay over the bigbrotr archive of the Nostr network: REQ returns the archived events matching the filters (newest first) then EOSE, then streams newly archived events that match until CLOSE; COUNT counts them. Publishing is refused.'
        : 'Read-only Nostr relay over the bigbrotr archive of the Nostr network: REQ returns the archived events matching the filters (newest first) then EOSE, COUNT counts them. Nothing is streamed after EOSE and publishing is refused.',
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
// Connections

interface Subscription {
  closed: boolean;
  /** Set after EOSE when live events are on: the filters, and where in the archive this subscriber's feed starts. */
  live?: { filters: ArchiveFilter[]; from: ArchivePosition };
}

interface Client {
  socket: WebSocket;
  /** The client's address (for per-address limits). */
  address: string;
  /** When the client last sent a message (not a control frame). */
  lastMessageAt: number;
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
  socket.write(
    `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}

function rawText(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** Why the database failed, in words safe to show a client (no SQL, no connection details). */
function failureSummary(error: unknown): string {
  if (error instanceof ApiTimeoutError || isStatementTimeout(error)) return 'query timed out';
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

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: api.relay_max_message_bytes,
    perMessageDeflate: false,
    clientTracking: false,
  });
  const clients = new Set<Client>();
  const perAddress = new Map<string, number>();
  /** REQ/COUNT timestamps per address in the last minute (a sliding window). */
  const requestTimes = new Map<string, number[]>();
  const sendBudget = api.relay_send_budget_bytes;
  /** Sockets between the accepted upgrade request and the finished handshake. */
  const upgrading = new Set<Duplex>();
  let shuttingDown = false;

  // -- sending

  /** Bytes of query results held, across all clients, while slow clients read what was already sent. */
  let heldBytes = 0;
  const heldCap = api.relay_held_bytes;
  const sendTimeoutMs = api.relay_send_timeout_seconds * 1000;

  function drop(client: Client, why: string): void {
    log.debug(
      { address: client.address, unsent: client.socket.bufferedAmount, why },
      'archive relay client does not read its replies; disconnecting',
    );
    relayMetricsSet.dropped.inc();
    client.socket.terminate();
  }

  /**
   * Sends a short reply (NOTICE, CLOSED, OK, COUNT) without waiting. A client that already has more
   * than its send budget unread and keeps asking is not reading: it is dropped.
   */
  function reply(client: Client, message: unknown[]): void {
    if (!client.isOpen) return;
    if (client.socket.bufferedAmount > sendBudget) {
      drop(client, 'replies past the send budget');
      return;
    }
    client.socket.send(JSON.stringify(message), () => {});
  }

  /**
   * Resolves true once the client has read our buffer down to half the budget (checked when the
   * socket drains, and every 25 ms), false on close or timeout.
   */
  function drained(client: Client): Promise<boolean> {
    return new Promise((resolve) => {
      const started = Date.now();
      const raw = rawSocket(client.socket);
      const check = () => {
        if (!client.isOpen) finish(false);
        else if (client.socket.bufferedAmount <= sendBudget / 2) finish(true);
        else if (Date.now() - started > sendTimeoutMs) finish(false);
      };
      const poll = setInterval(check, 25);
      raw?.on('drain', check);
      let done = false;
      function finish(ok: boolean): void {
        if (done) return;
        done = true;
        clearInterval(poll);
        raw?.off('drain', check);
        resolve(ok);
      }
    });
  }

  /**
   * Streams a query's events (NIP-01 JSON texts, sent as they are inside the EVENT message), in
   * batches of frames up to the send budget. Past the budget it waits for the client to read (a slow
   * link is served), holding the rest of the result; the held results of all slow clients together
   * stay under relay_held_bytes, and a client that reads nothing for relay_send_timeout_seconds is
   * dropped. So memory is bounded by connections × budget + relay_held_bytes. False once the client
   * is gone.
   */
  async function stream(client: Client, subId: string, events: readonly string[], subscription: Subscription): Promise<boolean> {
    const prefixText = `["EVENT",${JSON.stringify(subId)},`;
    const prefix = Buffer.from(prefixText, 'utf8');
    let index = 0;
    while (index < events.length) {
      if (subscription.closed || !client.isOpen) return false;
      const first = index;
      do {
        const raw = client.socket.readyState === client.socket.OPEN ? rawSocket(client.socket) : undefined;
        if (raw) index = writeEventFrames(raw, prefix, events, index);
        else {
          client.socket.send(prefixText + (events[index] as string) + ']', () => {});
          index += 1;
        }
      } while (index < events.length && client.socket.bufferedAmount <= sendBudget);
      relayMetricsSet.eventsSent.inc(index - first);
      if (index === events.length) break;
      const rest = heldSize(events, index, prefix.length);
      if (heldBytes + rest > heldCap) {
        drop(client, 'held results past relay_held_bytes');
        return false;
      }
      heldBytes += rest;
      try {
        if (!(await drained(client))) {
          if (client.isOpen) drop(client, 'nothing read within relay_send_timeout_seconds');
          return false;
        }
      } finally {
        heldBytes -= rest;
      }
    }
    return client.isOpen;
  }

  /** True when the client's address may send another REQ/COUNT this minute (and counts it). */
  function withinRequestRate(client: Client): boolean {
    if (api.relay_requests_per_minute === 0) return true;
    const now = Date.now();
    const times = (requestTimes.get(client.address) ?? []).filter((time) => now - time < 60_000);
    if (times.length >= api.relay_requests_per_minute) {
      requestTimes.set(client.address, times);
      return false;
    }
    times.push(now);
    requestTimes.set(client.address, times);
    return true;
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
    let from: ArchivePosition | undefined;
    try {
      events = await readOnly(db, statementTimeoutMs, async (tx) => {
        // Where the live feed will start: in the query's own transaction, a lag earlier, so nothing falls between.
        if (liveEnabled) from = await archiveNow(tx, liveLagMs);
        return parsed.limit === 0 ? [] : searchEventsJson(tx, parsed.filters, parsed.limit);
      });
    } catch (error) {
      const stillWanted = !subscription.closed;
      if (client.subscriptions.get(subId) === subscription) client.subscriptions.delete(subId);
      subscription.closed = true;
      answerFailure(client, subId, error, 'query', stillWanted);
      return;
    }
    if (!(await stream(client, subId, events, subscription))) return;
    if (subscription.closed) return;
    reply(client, ['EOSE', subId]);
    if (from) goLive(client, subId, subscription, { filters: parsed.filters, from });
  }

  // -- live events after EOSE

  const liveEnabled = api.relay_live_poll_ms > 0;
  const liveLagMs = api.relay_live_lag_ms;
  const liveBatch = api.relay_live_batch;
  /** How far the shared tail has read; undefined while nobody is subscribed. */
  let tailPosition: ArchivePosition | undefined;
  let tailTimer: NodeJS.Timeout | undefined;
  let tailRunning: Promise<void> | undefined;

  function liveSubscribers(): { client: Client; subId: string; subscription: Subscription }[] {
    const found: { client: Client; subId: string; subscription: Subscription }[] = [];
    for (const client of clients)
      for (const [subId, subscription] of client.subscriptions)
        if (subscription.live && !subscription.closed) found.push({ client, subId, subscription });
    return found;
  }

  /** Sends one live event; a subscriber whose connection holds more than its send budget unread loses the subscription, with CLOSED. */
  function sendLive(client: Client, subId: string, subscription: Subscription, event: NostrEvent): void {
    if (!client.isOpen || subscription.closed) return;
    if (client.socket.bufferedAmount > sendBudget) {
      closeSubscription(client, subId);
      client.socket.send(
        JSON.stringify(['CLOSED', subId, 'error: live events came faster than this connection read them; REQ again to resume']),
        () => {},
      );
      return;
    }
    client.socket.send(JSON.stringify(['EVENT', subId, event]), () => {});
    relayMetricsSet.eventsSent.inc();
  }

  function deliver(
    batch: { event: NostrEvent; position: ArchivePosition }[],
    only?: { client: Client; subId: string; subscription: Subscription },
  ): void {
    const subscribers = only ? [only] : liveSubscribers();
    for (const { event, position } of batch) {
      for (const { client, subId, subscription } of subscribers) {
        const live = subscription.live;
        if (!live || subscription.closed || comparePositions(position, live.from) <= 0) continue;
        if (live.filters.some((filter) => matchesArchiveFilter(event, filter))) sendLive(client, subId, subscription, event);
      }
    }
  }

  function goLive(
    client: Client,
    subId: string,
    subscription: Subscription,
    live: { filters: ArchiveFilter[]; from: ArchivePosition },
  ): void {
    subscription.live = live;
    if (tailPosition === undefined || comparePositions(live.from, tailPosition) < 0) {
      // The shared tail has already read past where this subscriber starts: catch it up alone, once.
      const upTo = tailPosition;
      if (upTo !== undefined) {
        enqueue(client, async () => {
          const missed = await readOnly(db, statementTimeoutMs, (tx) =>
            eventsArchivedAfter(tx, live.from, { lagMs: 0, limit: liveBatch, upTo }),
          );
          if (missed.length >= liveBatch) {
            closeSubscription(client, subId);
            reply(client, ['CLOSED', subId, 'error: too many events archived since this REQ to catch up; REQ again']);
            return;
          }
          deliver(missed, { client, subId, subscription });
        });
      } else tailPosition = live.from;
    }
    tailTimer ??= setInterval(pollTail, api.relay_live_poll_ms);
  }

  function pollTail(): void {
    if (tailRunning || shuttingDown) return;
    tailRunning = (async () => {
      for (;;) {
        if (liveSubscribers().length === 0 || tailPosition === undefined) {
          clearInterval(tailTimer);
          tailTimer = undefined;
          tailPosition = undefined;
          return;
        }
        const after = tailPosition;
        const batch = await readOnly(db, statementTimeoutMs, (tx) =>
          eventsArchivedAfter(tx, after, { lagMs: liveLagMs, limit: liveBatch }),
        );
        if (batch.length > 0) tailPosition = batch[batch.length - 1]?.position;
        deliver(batch);
        if (batch.length < liveBatch) return;
      }
    })()
      .catch((error: unknown) =>
        log.warn(
          { err: wrapDatabaseError(error, 'archive relay live feed') },
          'archive relay live feed could not read the archive; retrying',
        ),
      )
      .finally(() => {
        tailRunning = undefined;
      });
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
    reply(client, ['COUNT', subId, { count }]);
  }

  // -- messages

  /** The subscription id of a REQ/COUNT/CLOSE, or undefined after telling the client what is wrong. */
  function checkSubId(client: Client, value: unknown): string | undefined {
    if (typeof value !== 'string') {
      reply(client, ['NOTICE', 'invalid: the subscription id must be a string']);
      return undefined;
    }
    if (value.length < 1 || value.length > MAX_SUBID_LENGTH) {
      // Never echo more than a short prefix of what the client sent (the longest valid id).
      reply(client, [
        'CLOSED',
        value.slice(0, MAX_SUBID_LENGTH),
        `invalid: the subscription id must have 1 to ${MAX_SUBID_LENGTH} characters`,
      ]);
      return undefined;
    }
    return value;
  }

  function onReq(client: Client, message: unknown[]): void {
    const subId = checkSubId(client, message[1]);
    if (subId === undefined) return;
    if (!withinRequestRate(client)) {
      reply(client, ['CLOSED', subId, `rate-limited: more than ${api.relay_requests_per_minute} requests a minute from this address`]);
      return;
    }
    const parsed = parseClientFilters(message.slice(2), {
      maxFilters: api.relay_max_filters,
      maxValues: api.relay_max_filter_values,
      maxLimit: api.relay_max_limit,
    });
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
    if (!withinRequestRate(client)) {
      reply(client, ['CLOSED', subId, `rate-limited: more than ${api.relay_requests_per_minute} requests a minute from this address`]);
      return;
    }
    const parsed = parseClientFilters(message.slice(2), {
      maxFilters: api.relay_max_filters,
      maxValues: api.relay_max_filter_values,
      maxLimit: api.relay_max_limit,
    });
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
    if (!Array.isArray(message) || typeof message[0] !== 'string')
      return invalid('invalid: a message must be a JSON array starting with its type');
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
        const id =
          isPlainObject(message[1]) && typeof message[1].id === 'string' && /^[0-9a-f]{64}$/.test(message[1].id) ? message[1].id : '';
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

  function accept(socket: WebSocket, request: IncomingMessage, address: string): void {
    let markClosed: () => void = () => {};
    const client: Client = {
      socket,
      address,
      lastMessageAt: Date.now(),
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
      client.lastMessageAt = Date.now();
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
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
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
    const address = request.socket.remoteAddress ?? 'unknown';
    if ((perAddress.get(address) ?? 0) >= api.relay_max_connections_per_address) {
      relayMetricsSet.refused.inc({ reason: 'per-address' });
      refuseUpgrade(socket, '429 Too Many Requests');
      return;
    }
    // Counted from the upgrade on, so a burst of handshakes cannot exceed the per-address bound.
    perAddress.set(address, (perAddress.get(address) ?? 0) + 1);
    upgrading.add(socket);
    let accepted = false;
    socket.once('close', () => {
      upgrading.delete(socket);
      if (accepted) return;
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
    });
    wss.handleUpgrade(request, socket, head, (webSocket) => {
      upgrading.delete(socket);
      accepted = true;
      if (shuttingDown) {
        webSocket.terminate();
        return;
      }
      accept(webSocket, request, address);
    });
  }

  server.on('upgrade', onUpgrade);

  const heartbeat = setInterval(
    () => {
      const idleBefore = Date.now() - api.relay_idle_seconds * 1000;
      for (const client of clients) {
        // Pongs keep a connection alive only while it also uses it: idle ones are closed.
        const waitingForLive = [...client.subscriptions.values()].some((subscription) => subscription.live !== undefined);
        if (!client.alive || (client.lastMessageAt < idleBefore && client.pending === 0 && !waitingForLive)) {
          client.socket.terminate();
          continue;
        }
        client.alive = false;
        client.socket.ping();
      }
      const minuteAgo = Date.now() - 60_000;
      for (const [address, times] of requestTimes) if ((times[times.length - 1] ?? 0) < minuteAgo) requestTimes.delete(address);
    },
    Math.min(HEARTBEAT_MS, api.relay_idle_seconds * 1000),
  );
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
        clearInterval(tailTimer);
        for (const socket of upgrading) socket.destroy();
        const open = [...clients];
        for (const client of open) client.socket.terminate();
        await Promise.all(open.map((client) => client.closed));
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        // Queries already running finish (bounded by the statement timeout) before the database may close.
        await Promise.all([...open.map((client) => client.queue), tailRunning]);
      })();
      return closing;
    },
  };
}
