/** Errors from talking to a relay. Callers decide retry vs skip by class, never by message text. */

/** The relay could not be reached or the connection broke (retryable with backoff). */
export class RelayNetworkError extends Error {
  constructor(readonly relayUrl: string, message: string, options?: { cause?: unknown }) {
    super(`${relayUrl}: ${message}`, options);
    this.name = 'RelayNetworkError';
  }
}

/** The relay answered, but not as NIP-01 says (garbage frames, wrong shapes). */
export class RelayProtocolError extends Error {
  constructor(readonly relayUrl: string, message: string) {
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
