/** The WebSocket adapter: a session per connection, frames read and handed to the handler of their type. */
import type { RawData, WebSocket, WebSocketServer } from 'ws';
import { errorMessage } from '../error-message.js';
import { isServedType, parseClientMessage } from './client-message.js';
import { answerUnknown, MESSAGE_HANDLERS } from './handlers/index.js';
import { send } from './outbound.js';
import type { RelayState } from './relay-state.js';
import { armIdleClose, newSession, type Session } from './session.js';

function onFrame(relay: RelayState, session: Session, data: RawData, isBinary: boolean): void {
  armIdleClose(session, relay.settings.idleCloseMs);
  const parsed = parseClientMessage(data, isBinary);
  if (!parsed.ok) return void send(relay, session, ['NOTICE', parsed.notice]);
  const message = parsed.message;
  const handler = isServedType(message[0], relay.settings.negentropy) ? MESSAGE_HANDLERS[message[0]] : undefined;
  if (!handler) return answerUnknown(relay, session, message[0]);
  Promise.resolve(handler(relay, session, message)).catch(
    (error: unknown) => void send(relay, session, ['NOTICE', `error: ${errorMessage(error)}`]),
  );
}

function openSession(relay: RelayState, socket: WebSocket): void {
  relay.counters.connections += 1;
  const session = newSession(socket);
  relay.sessions.add(session);
  armIdleClose(session, relay.settings.idleCloseMs);
  const forget = () => {
    clearTimeout(session.idleTimer);
    relay.sessions.delete(session);
  };
  socket.on('close', forget);
  socket.on('error', forget);
  if (relay.settings.authRequired !== false || relay.behaviour.authRequiredForWrites)
    void send(relay, session, ['AUTH', session.challenge]);
  socket.on('message', (data, isBinary) => onFrame(relay, session, data, isBinary));
}

export function acceptSessions(relay: RelayState, wss: WebSocketServer): void {
  wss.on('connection', (socket: WebSocket) => openSession(relay, socket));
}
