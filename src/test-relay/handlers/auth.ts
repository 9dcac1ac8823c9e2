/** NIP-42 AUTH: a signed kind 22242 event naming this connection's challenge and this relay authenticates its pubkey. */
import { validateEventShape } from '../../nostr/event-shape.js';
import { eventIdOf } from '../client-message.js';
import { send } from '../outbound.js';
import type { MessageHandler } from '../relay-state.js';
import { verifiedSignature } from './signature.js';

export const handleAuth: MessageHandler = async (relay, session, [, raw]) => {
  const shape = validateEventShape(raw);
  const id = eventIdOf(raw);
  if (!shape.ok || !verifiedSignature(shape.event)) return void (await send(relay, session, ['OK', id, false, 'invalid: bad auth event']));
  const event = shape.event;
  const tag = (name: string) => event.tags.find((entry) => entry[0] === name)?.[1];
  if (
    event.kind !== 22242 ||
    tag('challenge') !== session.challenge ||
    tag('relay') !== relay.url ||
    Math.abs(event.created_at - Date.now() / 1000) > 600
  ) {
    return void (await send(relay, session, ['OK', id, false, 'invalid: wrong kind, challenge, relay or time']));
  }
  session.authedPubkeys.add(event.pubkey);
  relay.counters.auths += 1;
  await send(relay, session, ['OK', id, true, '']);
};
