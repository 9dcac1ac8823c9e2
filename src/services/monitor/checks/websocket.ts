/**
 * The NIP-66 round trips on one WebSocket connection: `open` (the handshake), `read` (one REQ
 * answered by EVENT, EOSE or CLOSED) and `write` (a small signed ephemeral event answered by OK,
 * accepted or not, with the reason prefix). An `auth-required:` refusal is answered with NIP-42 AUTH
 * when a key is configured, and the request tried once more; what happened is reported either way.
 */
import type { RelayClientConfig } from '../../../config/schema.js';
import { RelayConnection } from '../../../relay/connection.js';
import { signEvent } from '../../../nostr/sign.js';
import { refusalPrefix } from '../../../relay/errors.js';
import { errorMessage } from '../../../error-message.js';

export interface RoundTrip {
  ok: boolean;
  rttMs?: number;
  reason?: string;
  detail: Record<string, unknown>;
}

export interface WebSocketOutcome {
  open: RoundTrip;
  read?: RoundTrip;
  write?: RoundTrip;
  /** The relay sent an AUTH challenge. */
  challenged: boolean;
  /** A request was refused with `auth-required:`. */
  authRequired: boolean;
  /** Our NIP-42 AUTH was accepted. */
  authenticated: boolean;
  /** Refusal prefixes of reads and writes (`restricted`, `pow`, `blocked`, …). */
  refusalPrefixes: string[];
  /** Full refusal messages, for the requirement heuristics (payment). */
  refusalMessages: string[];
}

export interface WebSocketCheckOptions {
  url: string;
  relay: RelayClientConfig;
  addresses?: string[];
  ca?: string[];
  userAgent: string;
  openTimeoutMs: number;
  readTimeoutMs: number;
  writeTimeoutMs: number;
  /** Sign and send a write-check event of this kind with this key; unset: no write check. */
  write?: { kind: number; secretKey: string };
  /** Key for NIP-42 AUTH; unset: an auth-required refusal is final. */
  authSecretKey?: string;
}

const AUTH_KIND = 22242;

export { refusalPrefix } from '../../../relay/errors.js';

export async function checkWebSocket(options: WebSocketCheckOptions): Promise<WebSocketOutcome> {
  const outcome: WebSocketOutcome = {
    open: { ok: false, detail: {} },
    challenged: false,
    authRequired: false,
    authenticated: false,
    refusalPrefixes: [],
    refusalMessages: [],
  };
  const connection = await openRoundTrip(options, outcome);
  if (!connection) return outcome;
  const noteRefusal = (message: string) => {
    const prefix = refusalPrefix(message);
    if (prefix) outcome.refusalPrefixes.push(prefix);
    outcome.refusalMessages.push(message);
    if (prefix === 'auth-required') outcome.authRequired = true;
  };
  const authenticate = authenticateOnce(connection, options, outcome);
  try {
    outcome.read = await readRoundTrip(connection, options.readTimeoutMs, noteRefusal);
    if (outcome.read.detail.refused === true && outcome.read.detail.prefix === 'auth-required' && (await authenticate())) {
      outcome.read = await readRoundTrip(connection, options.readTimeoutMs, noteRefusal);
      outcome.read.detail.authenticated = true;
    }
    if (options.write && connection.isOpen) {
      const write = options.write;
      outcome.write = await writeRoundTrip(connection, write, options.writeTimeoutMs, noteRefusal);
      if (!outcome.write.ok && outcome.write.detail.prefix === 'auth-required' && (await authenticate())) {
        outcome.write = await writeRoundTrip(connection, write, options.writeTimeoutMs, noteRefusal);
        outcome.write.detail.authenticated = true;
      }
    } else if (options.write)
      outcome.write = { ok: false, reason: 'connection closed before the write check', detail: { answered: false } };
  } finally {
    outcome.challenged = connection.authChallenge !== undefined;
    connection.close();
  }
  return outcome;
}

/** The `open` round trip: the handshake, timed; undefined (with the reason in `outcome.open`) when it fails. */
async function openRoundTrip(options: WebSocketCheckOptions, outcome: WebSocketOutcome): Promise<RelayConnection | undefined> {
  const config = {
    ...options.relay,
    connect_timeout_ms: options.openTimeoutMs,
    request_timeout_ms: options.readTimeoutMs,
    idle_timeout_ms: options.readTimeoutMs,
  };
  const started = performance.now();
  let connection: RelayConnection;
  try {
    connection = await RelayConnection.open({
      url: options.url,
      config,
      addresses: options.addresses,
      ca: options.ca,
      headers: { 'User-Agent': options.userAgent },
    });
  } catch (error) {
    outcome.open = { ok: false, reason: errorMessage(error).replace(`${options.url}: `, ''), detail: {} };
    return undefined;
  }
  outcome.open = { ok: true, rttMs: performance.now() - started, detail: {} };
  return connection;
}

/**
 * NIP-42 AUTH answering the relay's challenge, tried at most once per connection and only with a key;
 * resolves whether the relay accepted it (also kept in `outcome.authenticated`).
 */
function authenticateOnce(connection: RelayConnection, options: WebSocketCheckOptions, outcome: WebSocketOutcome): () => Promise<boolean> {
  let authAttempted = false;
  return async () => {
    if (authAttempted || options.authSecretKey === undefined) return false;
    authAttempted = true;
    const challenge = connection.authChallenge;
    if (challenge === undefined) return false;
    const event = signEvent(
      {
        kind: AUTH_KIND,
        tags: [
          ['relay', options.url],
          ['challenge', challenge],
        ],
        content: '',
      },
      options.authSecretKey,
    );
    try {
      outcome.authenticated = (await connection.authenticate(event, options.readTimeoutMs)).accepted;
    } catch {
      outcome.authenticated = false;
    }
    return outcome.authenticated;
  };
}

async function readRoundTrip(connection: RelayConnection, timeoutMs: number, noteRefusal: (message: string) => void): Promise<RoundTrip> {
  const started = performance.now();
  let firstAnswerMs: number | undefined;
  let events = 0;
  const end = await connection.subscribe(
    [{ limit: 1 }],
    {
      onEvent: () => {
        events += 1;
        firstAnswerMs ??= performance.now() - started;
      },
    },
    { subIdPrefix: 'mon' },
  );
  const rttMs = firstAnswerMs ?? performance.now() - started;
  if (end.reason === 'eose') return { ok: true, rttMs, detail: { answer: events > 0 ? 'event' : 'eose' } };
  if (events > 0) return { ok: true, rttMs, detail: { answer: 'event' } };
  if (end.reason === 'closed' || end.reason === 'notice') {
    // A refusal is a policy answer from a relay that is up (auth, payment, a filter it dislikes):
    // the round trip counts, the refusal is recorded with its prefix.
    noteRefusal(end.message);
    return {
      ok: true,
      rttMs,
      reason: end.message.slice(0, 300) || `${end.reason.toUpperCase()} without a message`,
      detail: { answer: end.reason, refused: true, prefix: refusalPrefix(end.message) },
    };
  }
  if (end.reason === 'disconnected') return { ok: false, reason: `connection lost: ${end.message}`, detail: { answer: 'none' } };
  return { ok: false, reason: `no answer to REQ within ${timeoutMs} ms`, detail: { answer: 'none' } };
}

async function writeRoundTrip(
  connection: RelayConnection,
  write: { kind: number; secretKey: string },
  timeoutMs: number,
  noteRefusal: (message: string) => void,
): Promise<RoundTrip> {
  const event = signEvent({ kind: write.kind, tags: [], content: `bigbrotr write check ${new Date().toISOString()}` }, write.secretKey);
  const started = performance.now();
  try {
    const result = await connection.publish(event, timeoutMs);
    const rttMs = performance.now() - started;
    if (result.accepted) return { ok: true, rttMs, detail: { answered: true, accepted: true } };
    if (result.message.startsWith('error: connection lost')) return { ok: false, reason: result.message, detail: { answered: false } };
    noteRefusal(result.message);
    return {
      ok: false,
      rttMs,
      reason: result.message.slice(0, 300) || 'refused without a message',
      detail: { answered: true, accepted: false, prefix: refusalPrefix(result.message) },
    };
  } catch (error) {
    return { ok: false, reason: errorMessage(error).replace(`${connection.url}: `, ''), detail: { answered: false } };
  }
}
