/** CLOSE: ends a subscription; an unknown id is ignored. */
import type { ClientCommand } from '../messages.js';
import type { Session } from '../session.js';

export function handleClose(session: Session, { subId }: Extract<ClientCommand, { type: 'CLOSE' }>): void {
  session.closeSubscription(subId);
}
