/** NIP-77 NEG-OPEN, NEG-MSG and NEG-CLOSE: reconciliation sessions over a filter's events, one per subscription id. */
import type { NostrEvent } from '../../nostr/event.js';
import { Negentropy, NegentropyError, NegentropyStorage } from '../../nostr/negentropy.js';
import { errorMessage } from '../../error-message.js';
import { parseFilter, type Filter } from '../filter.js';
import { send } from '../outbound.js';
import { needsAuth } from '../refusals.js';
import type { MessageHandler, RelayState } from '../relay-state.js';
import { isAuthenticated, type Session } from '../session.js';

const negentropyError = (error: unknown): string =>
  error instanceof NegentropyError ? `invalid: ${error.message}` : `error: ${errorMessage(error)}`;

/** The events a session reconciles: the filter's, less withheld kinds unless the relay lists them anyway. */
function reconciledEvents(relay: RelayState, session: Session, filter: Filter): NostrEvent[] {
  const { settings } = relay;
  // No silent maxLimit cap here: a truncated set would make the client "need" or "have" wrong ids.
  const maxRecords = settings.negentropyMaxRecords;
  const listed = relay.store.query(
    filter,
    Math.min(filter.limit ?? Number.MAX_SAFE_INTEGER, maxRecords > 0 ? maxRecords + 1 : Number.MAX_SAFE_INTEGER),
  );
  const hideWithheld = settings.withheldKinds.length > 0 && !settings.withheldInNegentropy && !isAuthenticated(session);
  return hideWithheld ? listed.filter((event) => !settings.withheldKinds.includes(event.kind)) : listed;
}

/** NEG-OPEN's filter and initial message, or why it is refused before any reconciliation (NEG-ERR text). */
function readNegOpen(
  relay: RelayState,
  session: Session,
  subId: string,
  rawFilter: unknown,
  initialMessage: unknown,
): { filter: Filter; initialMessage: string } | string {
  if (subId.length > relay.settings.maxSubIdLength) return `invalid: subscription id longer than ${relay.settings.maxSubIdLength}`;
  const filter = parseFilter(rawFilter);
  if (typeof filter === 'string') return `invalid: ${filter}`;
  if (typeof initialMessage !== 'string') return 'invalid: NEG-OPEN needs a hex initial message';
  if (needsAuth([filter], relay.settings) && !isAuthenticated(session)) return 'auth-required: this relay needs NIP-42 authentication';
  return { filter, initialMessage };
}

export const handleNegOpen: MessageHandler = async (relay, session, [, subId, rawFilter, rawInitialMessage]) => {
  if (typeof subId !== 'string' || subId.length === 0)
    return void (await send(relay, session, ['NOTICE', 'invalid: NEG-OPEN needs a subscription id']));
  if (relay.behaviour.negentropyRefusal) return void (await send(relay, session, ['NEG-ERR', subId, relay.behaviour.negentropyRefusal]));
  session.negentropy.delete(subId); // NIP-77: reopening an id closes the old session first
  const fail = (reason: string) => send(relay, session, ['NEG-ERR', subId, reason]);
  const request = readNegOpen(relay, session, subId, rawFilter, rawInitialMessage);
  if (typeof request === 'string') return void (await fail(request));
  const { filter, initialMessage } = request;
  const events = reconciledEvents(relay, session, filter);
  const maxRecords = relay.settings.negentropyMaxRecords;
  if (maxRecords > 0 && events.length > maxRecords)
    return void (await fail(`blocked: too many records, this relay reconciles at most ${maxRecords}`));
  let reply: string;
  try {
    const storage = NegentropyStorage.fromItems(events.map((event) => ({ createdAt: event.created_at, id: event.id })));
    const negentropy = new Negentropy(storage, { frameSizeLimit: relay.settings.negentropyFrameSizeLimit });
    reply = negentropy.respond(initialMessage);
    session.negentropy.set(subId, negentropy);
  } catch (error) {
    return void (await fail(negentropyError(error)));
  }
  await send(relay, session, ['NEG-MSG', subId, reply]);
};

export const handleNegMsg: MessageHandler = async (relay, session, [, subId, message]) => {
  if (typeof subId !== 'string') return void (await send(relay, session, ['NOTICE', 'invalid: NEG-MSG needs a subscription id']));
  const negentropy = session.negentropy.get(subId);
  if (!negentropy) return void (await send(relay, session, ['NEG-ERR', subId, 'closed: no open negentropy session with this id']));
  let reply: string;
  try {
    if (typeof message !== 'string') throw new NegentropyError('NEG-MSG needs a hex message');
    reply = negentropy.respond(message);
  } catch (error) {
    session.negentropy.delete(subId); // after NEG-ERR the session counts as closed
    return void (await send(relay, session, ['NEG-ERR', subId, negentropyError(error)]));
  }
  await send(relay, session, ['NEG-MSG', subId, reply]);
};

export const handleNegClose: MessageHandler = (_relay, session, [, subId]) => {
  if (typeof subId === 'string') session.negentropy.delete(subId);
};
