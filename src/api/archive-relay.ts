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
 *
 * The parts live in ./archive-relay/: the socket side (socket-server), one connection (session),
 * reading a message (messages, refusals; pure), one handler per message type (handlers/), sending
 * with backpressure (event-stream, frames), the live tail (live-tail), NIP-11 (nip11) and metrics.
 */
import type { Server } from 'node:http';
import type { Config } from '../config/schema.js';
import type { Database } from '../db/database.js';
import type { Logger } from '../observability/logger.js';
import type { RelayContext } from './archive-relay/context.js';
import { EventStreamer } from './archive-relay/event-stream.js';
import { handleClientMessage } from './archive-relay/handlers/index.js';
import { LiveTail } from './archive-relay/live-tail.js';
import { relayMetrics } from './archive-relay/metrics.js';
import { RequestRate } from './archive-relay/request-rate.js';
import type { Session } from './archive-relay/session.js';
import { RelaySocketServer } from './archive-relay/socket-server.js';

export { archiveNip11Document } from './archive-relay/nip11.js';

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

function relayContext({ db, config, logger }: ArchiveRelayOptions, sessions: ReadonlySet<Session>): RelayContext {
  const api = config.api;
  const log = logger.child({ component: 'archive-relay' });
  const metrics = relayMetrics();
  const statementTimeoutMs = Number(api.statement_timeout_ms);
  const sendBudget = api.relay_send_budget_bytes;
  return {
    db,
    api,
    log,
    metrics,
    statementTimeoutMs,
    filterBounds: { maxFilters: api.relay_max_filters, maxValues: api.relay_max_filter_values, maxLimit: api.relay_max_limit },
    requestRate: new RequestRate(api.relay_requests_per_minute),
    streamer: new EventStreamer({
      metrics,
      sendBudget,
      heldCap: api.relay_held_bytes,
      sendTimeoutMs: api.relay_send_timeout_seconds * 1000,
    }),
    liveTail: new LiveTail({
      db,
      log,
      metrics,
      statementTimeoutMs,
      pollMs: api.relay_live_poll_ms,
      lagMs: api.relay_live_lag_ms,
      batch: api.relay_live_batch,
      sendBudget,
      sessions,
    }),
  };
}

export function attachArchiveRelay(server: Server, options: ArchiveRelayOptions): ArchiveRelay {
  const sessions = new Set<Session>();
  const context = relayContext(options, sessions);
  const { api, log, metrics } = context;
  const sockets = new RelaySocketServer(server, {
    path: options.path ?? '/',
    api,
    log,
    metrics,
    sessions,
    session: { log, metrics, sendBudget: api.relay_send_budget_bytes, maxPending: api.relay_max_subscriptions * 2 },
    requestRate: context.requestRate,
    onMessage: (session, data, isBinary) => handleClientMessage(context, session, data, isBinary),
  });

  let closing: Promise<void> | undefined;
  return {
    get connections() {
      return sessions.size;
    },
    close() {
      closing ??= (async () => {
        context.liveTail.stop();
        const open = await sockets.close();
        // Queries already running finish (bounded by the statement timeout) before the database may close.
        await Promise.all([...open.map((session) => session.queue), context.liveTail.running]);
      })();
      return closing;
    },
  };
}
