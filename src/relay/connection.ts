/**
 * One WebSocket connection to one relay (direct, or through the SOCKS5 proxy of its network: `.onion`, `.i2p`, `.loki`). It speaks
 * NIP-01 as a client: subscriptions that end at EOSE/CLOSED/timeout, publishing with OK, NOTICE and AUTH
 * passed to the caller. Every wait is bounded, every frame is parsed defensively, and a misbehaving
 * relay can only end its own connection.
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { SocksProxyAgent } from 'socks-proxy-agent';
import type { RelayClientConfig } from '../config/schema.js';
import type { NostrEvent } from '../nostr/event.js';
import { parseRelayMessage, type RelayMessage } from './messages.js';
import { pinnedLookup } from './address-policy.js';
import { proxyRoute } from './overlay.js';
import { RelayNetworkError, RelayTimeoutError } from './errors.js';
import { errorMessage } from '../error-message.js';

export interface RelayConnectionOptions {
  url: string;
  config: RelayClientConfig;
  /** Extra request headers (e.g. User-Agent). */
  headers?: Record<string, string>;
  /**
   * Connect to these already screened addresses instead of resolving the host again (closes the
   * window in which a name could re-resolve to a private address between screening and connecting).
   */
  addresses?: string[];
  /** Certificate authorities trusted for wss (the system's plus a private one); unset: the system's. */
  ca?: string[];
}

/** A `lookup` for net.connect that answers with pinned addresses. */

/**
 * Why a subscription ended. Only `eose` means the relay said "that is all I hold for this filter";
 * every other end proves nothing about what the relay holds.
 */
export type SubscriptionEnd =
  | { reason: 'eose' }
  | { reason: 'closed'; message: string }
  /** A NOTICE arrived while this was our only outstanding request: most likely its refusal. */
  | { reason: 'notice'; message: string }
  /** We stopped reading: the answer passed the `maxBytes` budget (CLOSE sent). */
  | { reason: 'cut'; bytes: number }
  | { reason: 'timeout' }
  | { reason: 'idle' }
  | { reason: 'disconnected'; message: string }
  | { reason: 'aborted' };

export interface SubscriptionHandlers {
  /** A raw event, untrusted: validate before use. `bytes` is the size of the frame that carried it. */
  onEvent(event: unknown, bytes: number): void;
  /** Live subscriptions only: the stored events have all been sent; new ones follow. */
  onEose?(): void;
}

export interface SubscribeOptions {
  signal?: AbortSignal;
  subIdPrefix?: string;
  /** Stop reading (CLOSE, end `cut`) once the events received weigh more than this many bytes. */
  maxBytes?: number;
  /**
   * Keep the subscription open after EOSE (which calls `onEose`) and receive new events until the
   * relay closes it, the connection drops or `signal` aborts: no idle or overall timeout, and a
   * NOTICE never ends it (it is not counted among the requests a NOTICE could answer).
   */
  live?: boolean;
}

/** How a NIP-77 negentropy session ended. */
export type NegentropyEnd =
  | { reason: 'done' }
  | { reason: 'error'; message: string }
  /** A NOTICE or CLOSED came instead of the first NEG-MSG: the relay does not know NEG-OPEN. */
  | { reason: 'unsupported'; message: string }
  | { reason: 'timeout'; firstReply: boolean }
  | { reason: 'disconnected'; message: string }
  | { reason: 'aborted' };

interface OpenNegentropy {
  onReply(message: string): void;
  onError(message: string): void;
  /** A NOTICE or CLOSED addressed to this session (it is our only outstanding request). */
  onRefusal(message: string): void;
  finish(end: NegentropyEnd, relayHoldsSession?: boolean): void;
}

export interface PublishResult {
  accepted: boolean;
  message: string;
}

interface OpenSubscription {
  handlers: SubscriptionHandlers;
  live: boolean;
  finish(end: SubscriptionEnd): void;
  /** Counts one event frame of `bytes`; true when that frame spent the byte budget (deliver it, then cut). */
  receive(bytes: number): boolean;
  cut(): void;
}

let subscriptionCounter = 0;

function frameBytes(data: WebSocket.RawData): number {
  if (Array.isArray(data)) return data.reduce((total, chunk) => total + chunk.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}

function nextSubscriptionId(prefix: string): string {
  subscriptionCounter = (subscriptionCounter + 1) % Number.MAX_SAFE_INTEGER;
  return `${prefix}${subscriptionCounter.toString(36)}`;
}

export class RelayConnection extends EventEmitter<{
  notice: [message: string];
  auth: [challenge: string];
  invalidFrame: [reason: string];
  close: [reason: string];
}> {
  readonly url: string;
  private readonly socket: WebSocket;
  private readonly config: RelayClientConfig;
  private readonly subscriptions = new Map<string, OpenSubscription>();
  private readonly pendingOks = new Map<string, (result: PublishResult) => void>();
  private readonly pendingCounts = new Map<string, (count: number | undefined) => void>();
  private readonly negentropySessions = new Map<string, OpenNegentropy>();
  private closedReason: string | undefined;
  /** The relay's latest NIP-42 challenge (it may arrive before anyone listens for 'auth'). */
  authChallenge: string | undefined;

  private constructor(url: string, socket: WebSocket, config: RelayClientConfig) {
    super();
    this.url = url;
    this.socket = socket;
    this.config = config;
    socket.on('message', (data, isBinary) => this.onFrame(data, isBinary));
    socket.on('close', (code, reason) =>
      this.onClosed(`closed by relay (${code}${reason.length ? ` ${reason.toString().slice(0, 200)}` : ''})`),
    );
    socket.on('error', (error) => this.onClosed(`connection error: ${error.message}`));
  }

  /** Opens the connection; rejects with RelayNetworkError / RelayTimeoutError. */
  static open(options: RelayConnectionOptions): Promise<RelayConnection> {
    const { url, config } = options;
    const route = proxyRoute(new URL(url).hostname, config);
    if (route.unreachable !== undefined) return Promise.reject(new RelayNetworkError(url, route.unreachable));
    const agent = route.proxy !== undefined ? new SocksProxyAgent(route.proxy) : undefined;
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, {
        agent,
        handshakeTimeout: config.connect_timeout_ms,
        maxPayload: config.max_payload_bytes,
        perMessageDeflate: config.per_message_deflate,
        headers: options.headers,
        followRedirects: false,
        ...(options.ca ? { ca: options.ca } : {}),
        ...(options.addresses?.length && !agent ? { lookup: pinnedLookup(options.addresses) } : {}),
      });
      // The handshake timeout of `ws` covers the HTTP upgrade; this one also covers TCP/TLS/SOCKS.
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new RelayTimeoutError(url, 'connect', config.connect_timeout_ms));
      }, config.connect_timeout_ms);
      const fail = (error: Error) => {
        clearTimeout(timer);
        socket.terminate();
        reject(new RelayNetworkError(url, `cannot connect: ${error.message}`, { cause: error }));
      };
      socket.once('error', fail);
      socket.once('unexpected-response', (_request, response) => {
        fail(new Error(`HTTP ${response.statusCode ?? '?'} instead of a WebSocket upgrade`));
      });
      socket.once('open', () => {
        clearTimeout(timer);
        socket.off('error', fail);
        resolve(new RelayConnection(url, socket, config));
      });
    });
  }

  /** The configured idle and overall request timeouts (for describing how a request ended). */
  get timeouts(): { idle: number; overall: number } {
    return { idle: this.config.idle_timeout_ms, overall: this.config.request_timeout_ms };
  }

  get isOpen(): boolean {
    return this.closedReason === undefined && this.socket.readyState === WebSocket.OPEN;
  }

  /**
   * Sends `REQ` and delivers raw events until the subscription ends: EOSE, CLOSED, a NOTICE while it
   * is our only outstanding request, the byte budget spent, no message for `idle_timeout_ms`,
   * `request_timeout_ms` overall, the connection dropping, or `signal` aborting. `CLOSE` is sent
   * whenever the relay may still consider the subscription open.
   */
  subscribe(filters: object[], handlers: SubscriptionHandlers, options: SubscribeOptions = {}): Promise<SubscriptionEnd> {
    if (!this.isOpen) return Promise.resolve({ reason: 'disconnected', message: this.closedReason ?? 'not open' });
    const subId = nextSubscriptionId(options.subIdPrefix ?? 'bb');
    return new Promise<SubscriptionEnd>((resolve) => {
      let idleTimer: NodeJS.Timeout | undefined;
      let bytes = 0;
      const live = options.live === true;
      const overallTimer = live ? undefined : setTimeout(() => finish({ reason: 'timeout' }), this.config.request_timeout_ms);
      const touch = () => {
        if (live) return;
        clearTimeout(idleTimer);
        idleTimer = setTimeout(() => finish({ reason: 'idle' }), this.config.idle_timeout_ms);
      };
      const onAbort = () => finish({ reason: 'aborted' });
      const finish = (end: SubscriptionEnd) => {
        if (!this.subscriptions.has(subId)) return;
        this.subscriptions.delete(subId);
        clearTimeout(idleTimer);
        clearTimeout(overallTimer);
        options.signal?.removeEventListener('abort', onAbort);
        if (end.reason !== 'closed' && end.reason !== 'disconnected') this.send(['CLOSE', subId]);
        resolve(end);
      };
      const receive = (frameBytes: number): boolean => {
        touch();
        bytes += frameBytes;
        return options.maxBytes !== undefined && bytes > options.maxBytes;
      };
      const cut = () => finish({ reason: 'cut', bytes });
      this.subscriptions.set(subId, { handlers, live, finish, receive, cut });
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (options.signal?.aborted) return finish({ reason: 'aborted' });
      touch();
      this.send(['REQ', subId, ...filters]);
    });
  }

  /** Publishes a signed event and waits for the relay's OK (bounded by `timeoutMs`, default `request_timeout_ms`). */
  publish(event: NostrEvent, timeoutMs = this.config.request_timeout_ms): Promise<PublishResult> {
    return this.sendAndAwaitOk(['EVENT', event], event.id, 'publish', timeoutMs);
  }

  /** NIP-42: sends our signed kind-22242 event and waits for the relay's OK. */
  authenticate(event: NostrEvent, timeoutMs: number): Promise<PublishResult> {
    return this.sendAndAwaitOk(['AUTH', event], event.id, 'auth', timeoutMs);
  }

  private sendAndAwaitOk(message: unknown[], eventId: string, what: string, timeoutMs: number): Promise<PublishResult> {
    if (!this.isOpen) return Promise.reject(new RelayNetworkError(this.url, `cannot ${what}: ${this.closedReason ?? 'not open'}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingOks.delete(eventId);
        reject(new RelayTimeoutError(this.url, what, timeoutMs));
      }, timeoutMs);
      this.pendingOks.set(eventId, (result) => {
        clearTimeout(timer);
        resolve(result);
      });
      this.send(message);
    });
  }

  /**
   * NIP-45 COUNT. Resolves with the count, or undefined when the relay does not answer it (CLOSED,
   * NOTICE, an estimate, silence until `timeoutMs`, lost connection): COUNT is optional for relays,
   * and some ignore it silently.
   */
  count(filters: object[], timeoutMs = this.config.request_timeout_ms): Promise<number | undefined> {
    if (!this.isOpen) return Promise.resolve(undefined);
    const subId = nextSubscriptionId('bbc');
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      const finish = (count: number | undefined) => {
        if (!this.pendingCounts.has(subId)) return;
        this.pendingCounts.delete(subId);
        clearTimeout(timer);
        resolve(count);
      };
      this.pendingCounts.set(subId, finish);
      this.send(['COUNT', subId, ...filters]);
    });
  }

  /**
   * NIP-77: sends `NEG-OPEN` with `initialMessage` and drives the exchange: each `NEG-MSG` reply goes
   * to `step`, which returns our next message, or null when reconciliation is complete (then
   * `NEG-CLOSE` is sent). A reply that `step` rejects (throws) ends the session as an error. Every wait
   * is bounded by `timeoutMs`.
   */
  negentropy(
    filter: object,
    initialMessage: string,
    step: (reply: string) => string | null,
    options: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<NegentropyEnd> {
    if (!this.isOpen) return Promise.resolve({ reason: 'disconnected', message: this.closedReason ?? 'not open' });
    const subId = nextSubscriptionId('bbn');
    return new Promise<NegentropyEnd>((resolve) => {
      let firstReply = true;
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => finish({ reason: 'timeout', firstReply }), options.timeoutMs);
      };
      const onAbort = () => finish({ reason: 'aborted' });
      // NEG-CLOSE whenever the relay may still hold the session (not after its NEG-ERR or a NOTICE).
      const finish = (end: NegentropyEnd, relayHoldsSession = true) => {
        if (!this.negentropySessions.has(subId)) return;
        this.negentropySessions.delete(subId);
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        if (relayHoldsSession && end.reason !== 'disconnected') this.send(['NEG-CLOSE', subId]);
        resolve(end);
      };
      this.negentropySessions.set(subId, {
        onReply: (reply) => {
          firstReply = false;
          let next: string | null;
          try {
            next = step(reply);
          } catch (error) {
            finish({ reason: 'error', message: `bad NEG-MSG from the relay: ${errorMessage(error)}` });
            return;
          }
          if (next === null) finish({ reason: 'done' });
          else {
            arm();
            this.send(['NEG-MSG', subId, next]);
          }
        },
        onError: (message) => finish({ reason: 'error', message }, false),
        // Before the first reply a NOTICE or CLOSED means "unknown message"; later, a failure.
        onRefusal: (message) => finish(firstReply ? { reason: 'unsupported', message } : { reason: 'error', message }, false),
        finish,
      });
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (options.signal?.aborted) return finish({ reason: 'aborted' });
      arm();
      this.send(['NEG-OPEN', subId, filter, initialMessage]);
    });
  }

  /**
   * WebSocket pings every `intervalMs`; a connection that has not answered the previous ping by the
   * next one is closed (a half-open TCP connection would otherwise leave a live subscription silent
   * for ever). For long-lived connections only; stops when the connection closes.
   */
  keepAlive(intervalMs: number): void {
    let answered = true;
    this.socket.on('pong', () => {
      answered = true;
    });
    const timer = setInterval(() => {
      if (!this.isOpen) return clearInterval(timer);
      if (!answered) {
        clearInterval(timer);
        this.onClosed(`no pong within ${intervalMs} ms`);
        this.socket.terminate();
        return;
      }
      answered = false;
      this.socket.ping();
    }, intervalMs);
    timer.unref();
    this.once('close', () => clearInterval(timer));
  }

  /** Sends any client message (AUTH, NEG-*, …). */
  send(message: unknown[]): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  close(): void {
    this.onClosed('closed by us');
    this.socket.terminate();
  }

  /**
   * Whatever a relay sends, and whatever a handler does with it, ends at most this connection: an
   * exception here would otherwise escape from the socket's event handler and end the process.
   */
  private onFrame(data: WebSocket.RawData, isBinary: boolean): void {
    try {
      if (isBinary) {
        this.emit('invalidFrame', 'binary frame');
        return;
      }
      const bytes = frameBytes(data);
      const parsed = parseRelayMessage(data.toString());
      if (!parsed.ok) {
        this.emit('invalidFrame', parsed.reason);
        return;
      }
      this.dispatch(parsed.message, bytes);
    } catch (error) {
      const reason = `frame could not be handled: ${error instanceof Error ? error.message.slice(0, 200) : 'unknown error'}`;
      try {
        this.emit('invalidFrame', reason);
      } catch {
        // a listener failed too; the connection ends below either way
      }
      this.onClosed(reason);
      this.socket.terminate();
    }
  }

  /** Our requests still waiting for an answer (REQ, COUNT, NEG-OPEN), for attributing a NOTICE. */
  private outstandingRequests(): number {
    let waiting = 0;
    for (const subscription of this.subscriptions.values()) if (!subscription.live) waiting += 1;
    return waiting + this.pendingCounts.size + this.negentropySessions.size;
  }

  /**
   * Many relays refuse a request they do not like (a filter too large, an unknown message type) with
   * a NOTICE instead of CLOSED, and then ignore it. A NOTICE that arrives while exactly one request
   * of ours is outstanding ends that request with the relay's text at once, instead of after a
   * timeout; with several outstanding, it cannot be attributed and is only reported.
   */
  private attributeNotice(message: string): void {
    if (this.outstandingRequests() !== 1) return;
    for (const subscription of this.subscriptions.values()) if (!subscription.live) subscription.finish({ reason: 'notice', message });
    for (const finish of this.pendingCounts.values()) finish(undefined);
    for (const session of this.negentropySessions.values()) session.onRefusal(message);
  }

  private dispatch(message: RelayMessage, bytes: number): void {
    switch (message.type) {
      case 'EVENT': {
        const subscription = this.subscriptions.get(message.subId);
        if (!subscription) return; // late events of a subscription we already ended
        const spent = subscription.receive(bytes);
        subscription.handlers.onEvent(message.event, bytes);
        if (spent) subscription.cut();
        return;
      }
      case 'EOSE': {
        const subscription = this.subscriptions.get(message.subId);
        if (subscription?.live) subscription.handlers.onEose?.();
        else subscription?.finish({ reason: 'eose' });
        return;
      }
      case 'CLOSED':
        this.subscriptions.get(message.subId)?.finish({ reason: 'closed', message: message.message });
        this.pendingCounts.get(message.subId)?.(undefined);
        this.negentropySessions.get(message.subId)?.onRefusal(message.message);
        return;
      case 'COUNT':
        // An estimate proves nothing: it is treated as no answer.
        this.pendingCounts.get(message.subId)?.(message.approximate ? undefined : message.count);
        return;
      case 'OK': {
        const waiter = this.pendingOks.get(message.eventId);
        if (waiter) {
          this.pendingOks.delete(message.eventId);
          waiter({ accepted: message.accepted, message: message.message });
        }
        return;
      }
      case 'NOTICE':
        this.emit('notice', message.message);
        this.attributeNotice(message.message);
        return;
      case 'NEG-MSG':
        this.negentropySessions.get(message.subId)?.onReply(message.message);
        return;
      case 'NEG-ERR':
        this.negentropySessions.get(message.subId)?.onError(message.message);
        return;
      case 'AUTH':
        this.authChallenge = message.challenge;
        this.emit('auth', message.challenge);
        return;
      default:
        return;
    }
  }

  private onClosed(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    for (const subscription of [...this.subscriptions.values()]) subscription.finish({ reason: 'disconnected', message: reason });
    for (const finish of [...this.pendingCounts.values()]) finish(undefined);
    for (const session of [...this.negentropySessions.values()]) session.finish({ reason: 'disconnected', message: reason }, false);
    for (const [id, waiter] of [...this.pendingOks.entries()]) {
      this.pendingOks.delete(id);
      waiter({ accepted: false, message: `error: connection lost (${reason})` });
    }
    this.emit('close', reason);
  }
}
