/** One handler per client message type, the way nostream keeps them apart from the socket adapter. */
import type { MessageHandler } from '../relay-state.js';
import { handleAuth } from './auth.js';
import { handleClose } from './close.js';
import { handleCount } from './count.js';
import { handleEvent } from './event.js';
import { handleNegClose, handleNegMsg, handleNegOpen } from './negentropy.js';
import { handleReq } from './req.js';

export const MESSAGE_HANDLERS: Record<string, MessageHandler> = {
  REQ: handleReq,
  CLOSE: handleClose,
  COUNT: handleCount,
  EVENT: handleEvent,
  AUTH: handleAuth,
  'NEG-OPEN': handleNegOpen,
  'NEG-MSG': handleNegMsg,
  'NEG-CLOSE': handleNegClose,
};

export { answerUnknown } from './unknown.js';
