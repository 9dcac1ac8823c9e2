/** REQ: the stored events matching the filters (newest first), EOSE, then live events until CLOSE. */
import { archiveNow, type ArchivePosition } from '../../../db/event-query.js';
import { searchEventsJson } from '../../../db/event-search.js';
import type { ParsedFilters } from '../../../nostr/client-filters.js';
import { readOnly } from '../../api-query.js';
import type { RelayContext } from '../context.js';
import type { ClientCommand } from '../messages.js';
import { TOO_MANY_IN_PROGRESS, type Session, type Subscription } from '../session.js';
import { answerFailure } from './query-failure.js';

export function handleReq(context: RelayContext, session: Session, { subId, filters }: Extract<ClientCommand, { type: 'REQ' }>): void {
  if (!context.requestRate.allows(session.address)) {
    session.reply(['CLOSED', subId, context.requestRate.refusal]);
    return;
  }
  if (!filters.ok) {
    session.closeSubscription(subId);
    session.reply(['CLOSED', subId, filters.reason]);
    return;
  }
  const maxSubscriptions = context.api.relay_max_subscriptions;
  const replacing = session.subscriptions.has(subId);
  if (!replacing && session.subscriptions.size >= maxSubscriptions) {
    session.reply(['CLOSED', subId, `blocked: too many subscriptions (max ${maxSubscriptions})`]);
    return;
  }
  if (replacing) session.closeSubscription(subId);
  const subscription: Subscription = { closed: false };
  session.subscriptions.set(subId, subscription);
  if (!session.enqueue(() => runSubscription(context, session, subId, subscription, filters.value))) {
    session.closeSubscription(subId);
    session.reply(['CLOSED', subId, TOO_MANY_IN_PROGRESS]);
  }
}

async function runSubscription(
  context: RelayContext,
  session: Session,
  subId: string,
  subscription: Subscription,
  parsed: ParsedFilters,
): Promise<void> {
  if (subscription.closed || !session.isOpen) return;
  const { liveTail } = context;
  let events;
  let from: ArchivePosition | undefined;
  try {
    events = await readOnly(context.db, context.statementTimeoutMs, async (tx) => {
      // Where the live feed will start: in the query's own transaction, a lag earlier, so nothing falls between.
      if (liveTail.enabled) from = await archiveNow(tx, liveTail.lagMs);
      return parsed.limit === 0 ? [] : searchEventsJson(tx, parsed.filters, parsed.limit);
    });
  } catch (error) {
    const stillWanted = !subscription.closed;
    if (session.subscriptions.get(subId) === subscription) session.subscriptions.delete(subId);
    subscription.closed = true;
    answerFailure(context.log, session, subId, error, 'query', stillWanted);
    return;
  }
  if (!(await context.streamer.stream(session, subId, events, subscription))) return;
  if (subscription.closed) return;
  session.reply(['EOSE', subId]);
  if (from) liveTail.follow(session, subId, subscription, { filters: parsed.filters, from });
}
