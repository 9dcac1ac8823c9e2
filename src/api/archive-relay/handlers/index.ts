/**
 * One client message, from frame to answer: parsed (pure, ./messages), counted, then answered outright
 * (refusals and malformed messages) or handed to the handler of its type.
 */
import type WebSocket from 'ws';
import type { RelayContext } from '../context.js';
import { parseClientMessage } from '../messages.js';
import type { Session } from '../session.js';
import { handleClose } from './close.js';
import { handleCount } from './count.js';
import { handleReq } from './req.js';

export function handleClientMessage(context: RelayContext, session: Session, data: WebSocket.RawData, isBinary: boolean): void {
  const parsed = parseClientMessage(data, isBinary, context.filterBounds);
  context.metrics.requests.inc({ type: parsed.label });
  if (parsed.kind === 'reply') return session.reply(parsed.reply);
  const command = parsed.command;
  switch (command.type) {
    case 'REQ':
      return handleReq(context, session, command);
    case 'COUNT':
      return handleCount(context, session, command);
    case 'CLOSE':
      return handleClose(session, command);
  }
}
