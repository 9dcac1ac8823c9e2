/** NIP-01 EVENT: checked (shape, signature, the NIPs the relay enforces), stored, answered with OK, and sent to live subscriptions. */
import type { NostrEvent } from '../../nostr/event.js';
import { validateEventShape } from '../../nostr/event-shape.js';
import { eventIdOf } from '../client-message.js';
import { broadcast, send } from '../outbound.js';
import { enforcedRefusal } from '../refusals.js';
import { nowSeconds, type MessageHandler, type RelayState } from '../relay-state.js';
import { isAuthenticated, type Session } from '../session.js';
import { isEphemeral } from '../store.js';
import { verifiedSignature } from './signature.js';

/** The event to store, or the OK message that refuses it. */
function admitEvent(relay: RelayState, session: Session, raw: unknown): NostrEvent | string {
  const shape = validateEventShape(raw);
  if (relay.behaviour.authRequiredForWrites && !isAuthenticated(session))
    return 'auth-required: this relay accepts events from authenticated users only';
  if (relay.behaviour.refuseWrites) return relay.behaviour.refuseWrites;
  if (!shape.ok) return `invalid: ${shape.message}`;
  if (!verifiedSignature(shape.event)) return 'invalid: bad id or signature';
  return enforcedRefusal(shape.event, session.authedPubkeys, relay.settings, nowSeconds()) ?? shape.event;
}

export const handleEvent: MessageHandler = async (relay, session, [, raw]) => {
  relay.counters.eventsReceived += 1;
  const id = eventIdOf(raw);
  if (relay.behaviour.noOk) return;
  const event = admitEvent(relay, session, raw);
  if (typeof event === 'string') return void (await send(relay, session, ['OK', id, false, event]));
  const outcome = relay.store.add(event);
  if (outcome === 'stored' && event.kind === 5 && relay.settings.enforces.deletion) {
    relay.store.deleteOwn(
      event.tags.filter((tag) => tag[0] === 'e' && tag[1] !== undefined).map((tag) => tag[1] as string),
      event.pubkey,
    );
  }
  relay.counters.oks += 1;
  if (outcome === 'duplicate') return void (await send(relay, session, ['OK', id, true, 'duplicate: already have this event']));
  await send(relay, session, ['OK', id, true, '']);
  if (outcome === 'stored' || isEphemeral(event.kind)) broadcast(relay, event);
};
