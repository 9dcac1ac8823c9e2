/** Errors from talking to a relay. Callers decide retry vs skip by class, never by message text. */
import { interpretRefusal, refusalPrefix, type Refusal } from './refusal.js';

/** The relay could not be reached or the connection broke (retryable with backoff). */
export class RelayNetworkError extends Error {
  constructor(
    readonly relayUrl: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${relayUrl}: ${message}`, options);
    this.name = 'RelayNetworkError';
  }
}

/** The relay answered, but not as NIP-01 says (garbage frames, wrong shapes). */
export class RelayProtocolError extends Error {
  constructor(
    readonly relayUrl: string,
    message: string,
  ) {
    super(`${relayUrl}: ${message}`);
    this.name = 'RelayProtocolError';
  }
}

/** A bounded wait ran out (handshake, EOSE, OK). */
export class RelayTimeoutError extends RelayNetworkError {
  constructor(relayUrl: string, what: string, timeoutMs: number) {
    super(relayUrl, `${what}: no answer within ${timeoutMs} ms`);
    this.name = 'RelayTimeoutError';
  }
}

/**
 * The relay refused a request, with CLOSED or with a NOTICE while it was our only outstanding
 * request. `prefix` is the NIP-01 machine-readable reason (`rate-limited`, `auth-required`, …, read
 * past strfry's `ERROR: `); `refusal` is what the text means for the request (see refusal.ts).
 */
export class RelayRefusedError extends RelayProtocolError {
  readonly prefix: string | undefined;
  readonly refusal: Refusal;
  constructor(
    relayUrl: string,
    readonly relayMessage: string,
    readonly via: 'closed' | 'notice' = 'closed',
  ) {
    super(relayUrl, `request refused by the relay (${via === 'notice' ? 'NOTICE' : 'CLOSED'}): ${relayMessage.slice(0, 300)}`);
    this.name = 'RelayRefusedError';
    this.prefix = refusalPrefix(relayMessage);
    this.refusal = interpretRefusal(relayMessage);
  }
}

/**
 * A request the relay did not answer at all: no event, no EOSE, no CLOSED within the idle or overall
 * timeout. Silence proves nothing about what the relay holds; the request is retried later.
 */
export class RelayUnansweredError extends RelayTimeoutError {
  constructor(relayUrl: string, what: string, timeoutMs: number) {
    super(relayUrl, what, timeoutMs);
    this.name = 'RelayUnansweredError';
  }
}

/**
 * The outbound policy refused to connect (a discovered relay whose name is local or resolves to a
 * private address): nothing was contacted; not retried.
 */
export class RelayPolicyError extends Error {
  constructor(
    readonly relayUrl: string,
    readonly refusal: string,
    detail: string,
  ) {
    super(`${relayUrl}: not contacted (${refusal}): ${detail}`);
    this.name = 'RelayPolicyError';
  }
}
