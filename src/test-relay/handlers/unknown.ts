/** Any message type the relay does not serve: a NOTICE, or silence, as the profile says. */
import { send } from '../outbound.js';
import { unknownMessageNotice } from '../refusals.js';
import type { RelayState } from '../relay-state.js';
import type { Session } from '../session.js';

export function answerUnknown(relay: RelayState, session: Session, type: string): void {
  const notice = unknownMessageNotice(type, relay.settings);
  if (notice) void send(relay, session, notice);
}
