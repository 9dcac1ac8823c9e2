/**
 * A real Nostr relay for tests, on 127.0.0.1 and a random port: NIP-01 (REQ/EVENT/EOSE/CLOSE/OK/
 * NOTICE/CLOSED), NIP-11 over HTTP, NIP-42 AUTH, NIP-45 COUNT, NIP-77 negentropy (NEG-OPEN/NEG-MSG/
 * NEG-CLOSE/NEG-ERR), a silent `limit` cap, and switchable misbehaviours.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';
import type { NostrEvent } from '../nostr/event.js';
import { validateEventShape } from '../nostr/event-shape.js';
import { loadVerifier } from '../nostr/schnorr.js';
import { verifyEvent } from '../nostr/verify-event.js';
import { Negentropy, NegentropyError, NegentropyStorage } from '../nostr/negentropy.js';
import { hasExpired, matchesFilter, parseFilter, type Filter } from './filter.js';
import { nip11Document, serveNip11 } from './nip11.js';
import { DEFAULT_ENFORCED, DEFAULT_MISBEHAVIOUR, DEFAULT_RELAY_OPTIONS, type Misbehaviour, type TestRelayOptions } from './options.js';
import { EventStore, isEphemeral } from './store.js';
import { errorMessage } from '../error-message.js';

const verifier = loadVerifier();
/** Id and BIP-340 signature both check out. */
const verifiedSignature = (event: NostrEvent): boolean => verifyEvent(event, verifier).ok;

export interface TestRelayCounters {
  connections: number;
  reqs: { subId: string; filters: Filter[] }[];
  eventsSent: number;
  eventsReceived: number;
  oks: number;
  auths: number;
  /** TCP connections accepted (HTTP requests for NIP-11 and WebSocket upgrades alike). */
  tcpConnections: number;
  /** Most subscriptions one connection held open at once. */
  peakSubscriptions: number;
}

export interface TestRelay {
  url: string;
  httpUrl: string;
  port: number;
  store: EventStore;
  counters: TestRelayCounters;
  readonly connectionCount: number;
  addEvents(events: NostrEvent[]): number;
  setBehaviour(misbehaviour: Partial<Misbehaviour>): void;
  setOptions(options: Partial<Omit<TestRelayOptions, 'misbehaviour'>>): void;
  close(): Promise<void>;
}

interface Connection {
  socket: WebSocket;
  subscriptions: Map<string, Filter[]>;
  challenge: string;
  authedPubkeys: Set<string>;
  reqTimes: number[];
  /** NIP-77 sessions by subscription id (a namespace separate from REQ's). */
  negentropy: Map<string, Negentropy>;
  /** REQs answered on this connection. */
  reqsAnswered: number;
  idleTimer?: NodeJS.Timeout;
}

type MessageHandler = (connection: Connection, message: unknown[]) => Promise<void> | void;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startTestRelay(options: Partial<TestRelayOptions> = {}): Promise<TestRelay> {
  let settings: Omit<TestRelayOptions, 'misbehaviour'> = { ...DEFAULT_RELAY_OPTIONS, ...options };
  let behaviour: Misbehaviour = { ...DEFAULT_MISBEHAVIOUR, ...options.misbehaviour };
  const store = new EventStore(settings.keepAllVersions);
  const counters: TestRelayCounters = {
    connections: 0,
    reqs: [],
    eventsSent: 0,
    eventsReceived: 0,
    oks: 0,
    auths: 0,
    tcpConnections: 0,
    peakSubscriptions: 0,
  };
  const connections = new Set<Connection>();
  const rawSockets = new Set<Socket>();
  let url = '';

  const sendText = async (connection: Connection, text: string): Promise<void> => {
    if (behaviour.delayMs > 0) await sleep(behaviour.delayMs);
    if (connection.socket.readyState !== WebSocket.OPEN) return;
    // Respect backpressure: a fast stream must not pile up in memory. Corked frames never drain, so
    // flush them before waiting (or a big answer would wait for itself for ever).
    if (connection.socket.bufferedAmount > 1024 * 1024) (connection.socket as unknown as { _socket?: Socket })._socket?.uncork();
    while (connection.socket.bufferedAmount > 1024 * 1024 && connection.socket.readyState === WebSocket.OPEN) await sleep(5);
    if (behaviour.byteAtATimeMs >= 0) {
      // One byte per WebSocket frame (continuation frames), slowly.
      const bytes = Buffer.from(text, 'utf8');
      for (let index = 0; index < bytes.length; index += 1) {
        if (connection.socket.readyState !== WebSocket.OPEN) return;
        await new Promise<void>((resolve) =>
          connection.socket.send(bytes.subarray(index, index + 1), { fin: index === bytes.length - 1, binary: false }, () => resolve()),
        );
        if (behaviour.byteAtATimeMs > 0) await sleep(behaviour.byteAtATimeMs);
      }
      return;
    }
    // Queued in order by ws; the loop above keeps the queue bounded (like a real relay, no wait per frame).
    connection.socket.send(text);
  };
  const send = (connection: Connection, message: unknown): Promise<void> => sendText(connection, JSON.stringify(message));
  /** Each stored event serialised once, as real relays keep them (strfry stores the JSON it sends). */
  const serialized = new WeakMap<NostrEvent, string>();
  const eventJson = (event: NostrEvent): string => {
    let text = serialized.get(event);
    if (text === undefined) {
      text = JSON.stringify(event);
      serialized.set(event, text);
    }
    return text;
  };
  const sendEvent = (connection: Connection, subId: string, event: NostrEvent): Promise<void> =>
    sendText(connection, `["EVENT",${JSON.stringify(subId)},${eventJson(event)}]`);

  const refusalText = (field: keyof TestRelayOptions['refusalTexts'], max: number) =>
    settings.refusalTexts[field].replaceAll('{max}', String(max));

  /** Why the relay will not run these filters (a list too long, too many filters, a filter too wide), or undefined. */
  const filterRefusal = (filters: Filter[]): string | undefined => {
    const caps = settings.filterLimits;
    if (caps.filters > 0 && filters.length > caps.filters) return refusalText('filters', caps.filters);
    for (const filter of filters) {
      for (const field of ['kinds', 'authors', 'ids'] as const) {
        const cap = caps[field];
        const list = filter[field];
        if (cap > 0 && list && list.length > cap) return refusalText(field, cap);
      }
      const narrow = filter.ids || filter.authors || filter.kinds || Object.keys(filter).some((key) => key.startsWith('#'));
      if (settings.narrowFilterRefusal && !narrow) return settings.narrowFilterRefusal;
    }
    return undefined;
  };

  /** Why a relay enforcing optional NIPs and NIP-11 limits refuses this event, if it does. */
  const enforcedRefusal = (event: NostrEvent, connection: Connection): string | undefined => {
    const enforced = { ...DEFAULT_ENFORCED, ...settings.enforces };
    const now = Math.floor(Date.now() / 1000);
    if (enforced.expiration && hasExpired(event, now)) return 'invalid: event has expired';
    if (
      enforced.protectedEvents &&
      event.tags.some((tag) => tag[0] === '-' && tag.length === 1) &&
      !connection.authedPubkeys.has(event.pubkey)
    ) {
      return 'auth-required: this event may only be published by its author';
    }
    if (enforced.createdAtLowerLimit > 0 && event.created_at < now - enforced.createdAtLowerLimit)
      return 'invalid: created_at is too far in the past';
    if (enforced.createdAtUpperLimit > 0 && event.created_at > now + enforced.createdAtUpperLimit)
      return 'invalid: created_at is too far in the future';
    if (enforced.maxContentLength > 0 && event.content.length > enforced.maxContentLength)
      return `invalid: content longer than ${enforced.maxContentLength} characters`;
    if (enforced.maxEventTags > 0 && event.tags.length > enforced.maxEventTags) return `invalid: more than ${enforced.maxEventTags} tags`;
    return undefined;
  };

  const answerUnknown = (connection: Connection, type: string) => {
    if (settings.unknownMessage === 'silent') return;
    void send(connection, ['NOTICE', settings.unknownMessageText.replaceAll('{type}', type.slice(0, 20))]);
  };

  const needsAuth = (filters: Filter[]): boolean => {
    if (settings.authRequired === true) return true;
    if (Array.isArray(settings.authRequired)) {
      const protectedKinds = settings.authRequired;
      return filters.some((filter) => !filter.kinds || filter.kinds.some((kind) => protectedKinds.includes(kind)));
    }
    return false;
  };

  const tamper = (event: NostrEvent, index: number): NostrEvent => {
    if (behaviour.badSignatureEvery > 0 && index % behaviour.badSignatureEvery === 0) {
      return { ...event, sig: `${event.sig.slice(0, 10)}${event.sig[10] === '0' ? '1' : '0'}${event.sig.slice(11)}` };
    }
    if (behaviour.badIdEvery > 0 && index % behaviour.badIdEvery === 0)
      return { ...event, id: `${event.id.slice(0, 63)}${event.id[63] === '0' ? '1' : '0'}` };
    return event;
  };

  const sendGarbage = (connection: Connection) => {
    const socket = connection.socket;
    socket.send('this is not json');
    socket.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]), { binary: true });
    socket.send(JSON.stringify({ not: 'an array' }));
    socket.send(JSON.stringify(['EVENT']));
    socket.send(JSON.stringify(['WHATEVER', 1, 2]));
    socket.send(JSON.stringify(['EVENT', 'unknown-sub', { id: 'zz' }]));
  };

  const answerReq = async (connection: Connection, subId: string, filters: Filter[]): Promise<void> => {
    const ignoreTime = behaviour.ignoreSinceUntil;
    const seen = new Set<string>();
    let events: NostrEvent[] = [];
    const searching = settings.enforces.search === true;
    for (const filter of filters) {
      const limit = Math.min(filter.limit ?? settings.defaultLimit, settings.maxLimit);
      // NIP-50 (when enforced): the search narrows the matches before the limit applies.
      const term = searching ? (filter as { search?: unknown }).search : undefined;
      const matches =
        typeof term === 'string'
          ? store
              .queryOrdered(filter, Number.MAX_SAFE_INTEGER, settings.sameSecondOrder, { ignoreTime })
              .filter((event) => event.content.toLowerCase().includes(term.toLowerCase()))
              .slice(0, limit)
          : store.queryOrdered(filter, limit, settings.sameSecondOrder, { ignoreTime });
      for (const event of matches) {
        if (seen.has(event.id) && !settings.duplicatesAcrossFilters) continue;
        seen.add(event.id);
        events.push(event);
      }
    }
    const enforced = { ...DEFAULT_ENFORCED, ...settings.enforces };
    const now = Math.floor(Date.now() / 1000);
    if (enforced.expiration) events = events.filter((event) => !hasExpired(event, now));
    if (settings.multiFilterLimit === 'first-filter' && filters.length > 1) {
      // nostream: one UNION whose ORDER BY and LIMIT are the first filter's.
      const limit = Math.min(filters[0]?.limit ?? settings.defaultLimit, settings.maxLimit);
      events = [...events].sort((a, b) => b.created_at - a.created_at).slice(0, limit);
    }
    // strfry: events of read-restricted kinds count towards the limit, then are dropped for readers who did not authenticate.
    if (settings.withheldKinds.length > 0 && connection.authedPubkeys.size === 0)
      events = events.filter((event) => !settings.withheldKinds.includes(event.kind));
    if (behaviour.outOfFilterEvents > 0) {
      const strangers = store
        .all()
        .filter((event) => !filters.some((filter) => matchesFilter(event, filter)))
        .slice(0, behaviour.outOfFilterEvents);
      events.splice(Math.min(1, events.length), 0, ...strangers);
    }
    if (behaviour.garbageFrames) sendGarbage(connection);
    // Frames of one answer go out in few writes (as a C++ relay would), not one system call each.
    // (Not when a misbehaviour must cut the stream at an exact event: a terminate would drop corked frames.)
    const plain = behaviour.delayMs === 0 && behaviour.byteAtATimeMs < 0 && behaviour.dropAfterEvents < 0;
    const raw = plain ? (connection.socket as unknown as { _socket?: Socket })._socket : undefined;
    raw?.cork();
    try {
      let sent = 0;
      for (const event of events) {
        if (!connection.subscriptions.has(subId) || connection.socket.readyState !== WebSocket.OPEN) return;
        if (sent === behaviour.earlyEoseAfter) await send(connection, ['EOSE', subId]);
        if (sent === behaviour.dropAfterEvents) {
          connection.socket.terminate();
          return;
        }
        if (sent === behaviour.closeSubscriptionAfter) {
          connection.subscriptions.delete(subId);
          await send(connection, ['CLOSED', subId, 'error: subscription closed by the test relay']);
          return;
        }
        sent += 1;
        const outgoing = tamper(event, sent);
        await sendEvent(connection, subId, outgoing);
        counters.eventsSent += 1;
        if (behaviour.duplicateEvents) {
          await sendEvent(connection, subId, outgoing);
          counters.eventsSent += 1;
        }
        if (raw && sent % 64 === 0) {
          raw.uncork();
          raw.cork();
        }
      }
      if (sent === behaviour.dropAfterEvents) {
        connection.socket.terminate();
        return;
      }
      if (!behaviour.neverEose && behaviour.earlyEoseAfter < 0) await send(connection, ['EOSE', subId]);
      else if (behaviour.earlyEoseAfter >= sent && !behaviour.neverEose) await send(connection, ['EOSE', subId]);
    } finally {
      raw?.uncork();
    }
  };

  const negentropyError = (error: unknown): string =>
    error instanceof NegentropyError ? `invalid: ${error.message}` : `error: ${errorMessage(error)}`;

  const broadcast = (event: NostrEvent) => {
    for (const connection of connections) {
      for (const [subId, filters] of connection.subscriptions) {
        if (filters.some((filter) => matchesFilter(event, filter))) void send(connection, ['EVENT', subId, event]);
      }
    }
  };

  const messageHandlers: Record<string, MessageHandler> = {
    REQ: async (connection, [, subId, ...rawFilters]) => {
      if (typeof subId !== 'string' || subId.length === 0)
        return void (await send(connection, ['NOTICE', 'invalid: REQ needs a subscription id']));
      if (subId.length > settings.maxSubIdLength)
        return void (await send(connection, ['CLOSED', subId, `invalid: subscription id longer than ${settings.maxSubIdLength}`]));
      const filters: Filter[] = [];
      for (const raw of rawFilters) {
        const parsed = parseFilter(raw);
        if (typeof parsed === 'string') return void (await send(connection, ['CLOSED', subId, `invalid: ${parsed}`]));
        filters.push(parsed);
      }
      counters.reqs.push({ subId, filters });
      if (behaviour.neverAnswerReq) return;
      if (behaviour.answerOnlyFirstReq && connection.reqsAnswered > 0) return;
      if (behaviour.deepNestingNotice > 0)
        await sendText(connection, `["NOTICE",${'['.repeat(behaviour.deepNestingNotice)}${']'.repeat(behaviour.deepNestingNotice)}]`);
      if (settings.reqRateLimit.perSecond > 0) {
        const now = Date.now();
        connection.reqTimes = connection.reqTimes.filter((time) => now - time < 1_000);
        connection.reqTimes.push(now);
        if (connection.reqTimes.length > settings.reqRateLimit.perSecond) {
          return void (await send(
            connection,
            settings.reqRateLimit.mode === 'closed'
              ? ['CLOSED', subId, settings.reqRateLimit.text]
              : ['NOTICE', settings.reqRateLimit.text],
          ));
        }
      }
      const refusal = filterRefusal(filters);
      if (refusal !== undefined) {
        if (settings.filterRefusal === 'closed' || refusal === settings.narrowFilterRefusal)
          return void (await send(connection, ['CLOSED', subId, refusal]));
        await send(connection, ['NOTICE', refusal]);
        if (settings.filterRefusal === 'notice-then-eose') await send(connection, ['EOSE', subId]);
        return;
      }
      if (
        settings.withheldKinds.length > 0 &&
        connection.authedPubkeys.size === 0 &&
        filters.every((filter) => filter.kinds?.length && filter.kinds.every((kind) => settings.withheldKinds.includes(kind)))
      ) {
        return void (await send(connection, ['CLOSED', subId, 'auth-required: requested filter requires authentication']));
      }
      connection.reqsAnswered += 1;
      if (behaviour.rateLimitPerSecond > 0) {
        const now = Date.now();
        connection.reqTimes = connection.reqTimes.filter((time) => now - time < 1_000);
        connection.reqTimes.push(now);
        if (connection.reqTimes.length > behaviour.rateLimitPerSecond)
          return void (await send(connection, ['CLOSED', subId, 'rate-limited: slow down']));
      }
      if (needsAuth(filters) && connection.authedPubkeys.size === 0)
        return void (await send(connection, ['CLOSED', subId, 'auth-required: this relay needs NIP-42 authentication']));
      if (!connection.subscriptions.has(subId) && connection.subscriptions.size >= settings.maxSubscriptions) {
        return void (await send(connection, ['CLOSED', subId, `error: too many subscriptions (max ${settings.maxSubscriptions})`]));
      }
      connection.subscriptions.set(subId, filters);
      counters.peakSubscriptions = Math.max(counters.peakSubscriptions, connection.subscriptions.size);
      await answerReq(connection, subId, filters);
    },
    CLOSE: (connection, [, subId]) => {
      if (typeof subId === 'string') connection.subscriptions.delete(subId);
    },
    COUNT: async (connection, [, subId, ...rawFilters]) => {
      if (settings.count === 'unknown') return answerUnknown(connection, 'COUNT');
      if (typeof subId !== 'string') return;
      if (behaviour.noCount || settings.count === 'closed')
        return void (await send(connection, [
          'CLOSED',
          subId,
          behaviour.noCount ? 'unsupported: COUNT is not implemented' : settings.countRefusal,
        ]));
      const ids = new Set<string>();
      for (const raw of rawFilters) {
        const parsed = parseFilter(raw);
        if (typeof parsed === 'string') return void (await send(connection, ['CLOSED', subId, `invalid: ${parsed}`]));
        for (const event of store.query(parsed, Number.MAX_SAFE_INTEGER)) ids.add(event.id);
      }
      await send(connection, ['COUNT', subId, { count: Math.max(0, ids.size + behaviour.countOffset) }]);
    },
    EVENT: async (connection, [, raw]) => {
      counters.eventsReceived += 1;
      const shape = validateEventShape(raw);
      const id = typeof (raw as { id?: unknown })?.id === 'string' ? (raw as { id: string }).id : '';
      if (behaviour.noOk) return;
      if (behaviour.authRequiredForWrites && connection.authedPubkeys.size === 0)
        return void (await send(connection, ['OK', id, false, 'auth-required: this relay accepts events from authenticated users only']));
      if (behaviour.refuseWrites) return void (await send(connection, ['OK', id, false, behaviour.refuseWrites]));
      if (!shape.ok) return void (await send(connection, ['OK', id, false, `invalid: ${shape.message}`]));
      if (!verifiedSignature(shape.event)) return void (await send(connection, ['OK', id, false, 'invalid: bad id or signature']));
      const refusal = enforcedRefusal(shape.event, connection);
      if (refusal) return void (await send(connection, ['OK', id, false, refusal]));
      const outcome = store.add(shape.event);
      if (outcome === 'stored' && shape.event.kind === 5 && settings.enforces.deletion) {
        store.deleteOwn(
          shape.event.tags.filter((tag) => tag[0] === 'e' && tag[1] !== undefined).map((tag) => tag[1] as string),
          shape.event.pubkey,
        );
      }
      counters.oks += 1;
      if (outcome === 'duplicate') return void (await send(connection, ['OK', id, true, 'duplicate: already have this event']));
      await send(connection, ['OK', id, true, '']);
      if (outcome === 'stored' || isEphemeral(shape.event.kind)) broadcast(shape.event);
    },
    AUTH: async (connection, [, raw]) => {
      const shape = validateEventShape(raw);
      const id = typeof (raw as { id?: unknown })?.id === 'string' ? (raw as { id: string }).id : '';
      if (!shape.ok || !verifiedSignature(shape.event)) return void (await send(connection, ['OK', id, false, 'invalid: bad auth event']));
      const event = shape.event;
      const tag = (name: string) => event.tags.find((entry) => entry[0] === name)?.[1];
      if (
        event.kind !== 22242 ||
        tag('challenge') !== connection.challenge ||
        tag('relay') !== url ||
        Math.abs(event.created_at - Date.now() / 1000) > 600
      ) {
        return void (await send(connection, ['OK', id, false, 'invalid: wrong kind, challenge, relay or time']));
      }
      connection.authedPubkeys.add(event.pubkey);
      counters.auths += 1;
      await send(connection, ['OK', id, true, '']);
    },
    'NEG-OPEN': async (connection, [, subId, rawFilter, initialMessage]) => {
      if (typeof subId !== 'string' || subId.length === 0)
        return void (await send(connection, ['NOTICE', 'invalid: NEG-OPEN needs a subscription id']));
      if (behaviour.negentropyRefusal) return void (await send(connection, ['NEG-ERR', subId, behaviour.negentropyRefusal]));
      connection.negentropy.delete(subId); // NIP-77: reopening an id closes the old session first
      const fail = (reason: string) => send(connection, ['NEG-ERR', subId, reason]);
      if (subId.length > settings.maxSubIdLength)
        return void (await fail(`invalid: subscription id longer than ${settings.maxSubIdLength}`));
      const filter = parseFilter(rawFilter);
      if (typeof filter === 'string') return void (await fail(`invalid: ${filter}`));
      if (typeof initialMessage !== 'string') return void (await fail('invalid: NEG-OPEN needs a hex initial message'));
      if (needsAuth([filter]) && connection.authedPubkeys.size === 0)
        return void (await fail('auth-required: this relay needs NIP-42 authentication'));
      // No silent maxLimit cap here: a truncated set would make the client "need" or "have" wrong ids.
      const maxRecords = settings.negentropyMaxRecords;
      const listed = store.query(
        filter,
        Math.min(filter.limit ?? Number.MAX_SAFE_INTEGER, maxRecords > 0 ? maxRecords + 1 : Number.MAX_SAFE_INTEGER),
      );
      const hideWithheld = settings.withheldKinds.length > 0 && !settings.withheldInNegentropy && connection.authedPubkeys.size === 0;
      const events = hideWithheld ? listed.filter((event) => !settings.withheldKinds.includes(event.kind)) : listed;
      if (maxRecords > 0 && events.length > maxRecords)
        return void (await fail(`blocked: too many records, this relay reconciles at most ${maxRecords}`));
      let reply: string;
      try {
        const storage = NegentropyStorage.fromItems(events.map((event) => ({ createdAt: event.created_at, id: event.id })));
        const session = new Negentropy(storage, { frameSizeLimit: settings.negentropyFrameSizeLimit });
        reply = session.respond(initialMessage);
        connection.negentropy.set(subId, session);
      } catch (error) {
        return void (await fail(negentropyError(error)));
      }
      await send(connection, ['NEG-MSG', subId, reply]);
    },
    'NEG-MSG': async (connection, [, subId, message]) => {
      if (typeof subId !== 'string') return void (await send(connection, ['NOTICE', 'invalid: NEG-MSG needs a subscription id']));
      const session = connection.negentropy.get(subId);
      if (!session) return void (await send(connection, ['NEG-ERR', subId, 'closed: no open negentropy session with this id']));
      let reply: string;
      try {
        if (typeof message !== 'string') throw new NegentropyError('NEG-MSG needs a hex message');
        reply = session.respond(message);
      } catch (error) {
        connection.negentropy.delete(subId); // after NEG-ERR the session counts as closed
        return void (await send(connection, ['NEG-ERR', subId, negentropyError(error)]));
      }
      await send(connection, ['NEG-MSG', subId, reply]);
    },
    'NEG-CLOSE': (connection, [, subId]) => {
      if (typeof subId === 'string') connection.negentropy.delete(subId);
    },
  };

  const handleHttp = (req: IncomingMessage, res: ServerResponse) => {
    if ((req.headers.accept ?? '').includes('application/nostr+json')) {
      const redirect = behaviour.nip11Mode.startsWith('redirect') && req.url !== '/moved';
      if (redirect) {
        const location =
          behaviour.nip11Mode === 'redirect-loop'
            ? '/'
            : behaviour.nip11Mode === 'redirect-private'
              ? 'http://10.255.255.1/'
              : behaviour.nip11Mode === 'redirect-to'
                ? behaviour.nip11RedirectTo
                : '/moved';
        res.writeHead(301, { location }).end();
        return;
      }
      serveNip11(
        req,
        res,
        nip11Document(settings),
        behaviour.nip11Mode.startsWith('redirect') ? 'normal' : behaviour.nip11Mode,
        behaviour.delayMs,
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('bigbrotr test relay: connect with a WebSocket client\n');
  };
  const http: Server = settings.tls
    ? createHttpsServer({ key: settings.tls.key, cert: settings.tls.cert }, handleHttp)
    : createServer(handleHttp);
  http.on('connection', (socket) => {
    counters.tcpConnections += 1;
    rawSockets.add(socket);
    socket.on('close', () => rawSockets.delete(socket));
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024 });
  http.on('upgrade', (req: IncomingMessage, socket, head) => {
    if (behaviour.refuseUpgrade) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    if (behaviour.hangHandshake) {
      // Keep the TCP connection open and never answer, but notice when the client goes away.
      socket.on('error', () => socket.destroy());
      socket.on('end', () => socket.destroy());
      socket.resume();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (socket: WebSocket) => {
    counters.connections += 1;
    const connection: Connection = {
      socket,
      subscriptions: new Map(),
      challenge: randomBytes(16).toString('hex'),
      authedPubkeys: new Set(),
      reqTimes: [],
      negentropy: new Map(),
      reqsAnswered: 0,
    };
    connections.add(connection);
    const armIdleClose = () => {
      clearTimeout(connection.idleTimer);
      if (settings.idleCloseMs > 0) connection.idleTimer = setTimeout(() => socket.close(1000, 'idle'), settings.idleCloseMs);
    };
    armIdleClose();
    const forget = () => {
      clearTimeout(connection.idleTimer);
      connections.delete(connection);
    };
    socket.on('close', forget);
    socket.on('error', forget);
    if (settings.authRequired !== false || behaviour.authRequiredForWrites) void send(connection, ['AUTH', connection.challenge]);
    socket.on('message', (data, isBinary) => {
      armIdleClose();
      if (isBinary) return void send(connection, ['NOTICE', 'invalid: binary frames are not supported']);
      let message: unknown;
      try {
        message = JSON.parse(data.toString());
      } catch {
        return void send(connection, ['NOTICE', 'invalid: message is not JSON']);
      }
      if (!Array.isArray(message) || typeof message[0] !== 'string')
        return void send(connection, ['NOTICE', 'invalid: message is not an array']);
      // A relay without NIP-77 treats NEG-* like any other unknown message type.
      const handler = settings.negentropy || !message[0].startsWith('NEG-') ? messageHandlers[message[0]] : undefined;
      if (!handler) return answerUnknown(connection, message[0]);
      Promise.resolve(handler(connection, message)).catch(
        (error: unknown) => void send(connection, ['NOTICE', `error: ${errorMessage(error)}`]),
      );
    });
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(settings.port ?? 0, '127.0.0.1', () => {
      http.off('error', reject);
      resolve();
    });
  });
  const { port } = http.address() as AddressInfo;
  const urlHost = settings.urlHost ?? '127.0.0.1';
  url = `${settings.tls ? 'wss' : 'ws'}://${urlHost}:${port}/`;

  return {
    url,
    httpUrl: `${settings.tls ? 'https' : 'http'}://${urlHost}:${port}/`,
    port,
    store,
    counters,
    get connectionCount() {
      return connections.size;
    },
    addEvents(events) {
      const stored = store.addMany(events);
      for (const event of events) broadcast(event);
      return stored;
    },
    setBehaviour(misbehaviour) {
      behaviour = { ...behaviour, ...misbehaviour };
    },
    setOptions(next) {
      settings = { ...settings, ...next };
    },
    close: async () => {
      for (const connection of connections) connection.socket.terminate();
      for (const socket of rawSockets) socket.destroy();
      wss.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
