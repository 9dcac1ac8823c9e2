/** NIP-01 CLOSE: the subscription ends, without an answer. */
import type { MessageHandler } from '../relay-state.js';

export const handleClose: MessageHandler = (_relay, session, [, subId]) => {
  if (typeof subId === 'string') session.subscriptions.delete(subId);
};
