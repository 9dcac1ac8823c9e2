/** NIP-45 COUNT: exact counts, refused with CLOSED, or unknown, as the profile says; off by `countOffset` when told to lie. */
import { parseFilters } from '../client-message.js';
import { send } from '../outbound.js';
import type { MessageHandler } from '../relay-state.js';
import { answerUnknown } from './unknown.js';

export const handleCount: MessageHandler = async (relay, session, [, subId, ...rawFilters]) => {
  const { settings, behaviour } = relay;
  if (settings.count === 'unknown') return answerUnknown(relay, session, 'COUNT');
  if (typeof subId !== 'string') return;
  if (behaviour.noCount || settings.count === 'closed')
    return void (await send(relay, session, [
      'CLOSED',
      subId,
      behaviour.noCount ? 'unsupported: COUNT is not implemented' : settings.countRefusal,
    ]));
  const filters = parseFilters(rawFilters);
  if (typeof filters === 'string') return void (await send(relay, session, ['CLOSED', subId, `invalid: ${filters}`]));
  const ids = new Set<string>();
  for (const filter of filters) for (const event of relay.store.query(filter, Number.MAX_SAFE_INTEGER)) ids.add(event.id);
  await send(relay, session, ['COUNT', subId, { count: Math.max(0, ids.size + behaviour.countOffset) }]);
};
