/**
 * NIP-01 REQ: the checks a relay makes before it answers (subscription id, filters, rate limits,
 * filter caps, NIP-42, subscription count), each answered the way the profile's relay answers it,
 * then the answer itself (req-answer.ts).
 */
import { parseFilters } from '../client-message.js';
import type { Filter } from '../filter.js';
import { deepNestingNoticeText } from '../misbehaviours.js';
import { send, sendAll, sendText } from '../outbound.js';
import { asksOnlyWithheldKinds, filterRefusal, needsAuth } from '../refusals.js';
import type { MessageHandler, RelayState } from '../relay-state.js';
import { answerReq } from '../req-answer.js';
import { isAuthenticated, overRateLimit, type Session } from '../session.js';

/**
 * What refuses the REQ before it counts as answered (the profile's rate limit, filter caps, withheld
 * kinds): the messages to send, or undefined.
 */
function refusalBeforeCounting(relay: RelayState, session: Session, subId: string, filters: Filter[]): unknown[][] | undefined {
  const { settings } = relay;
  const rateLimit = settings.reqRateLimit;
  if (rateLimit.perSecond > 0 && overRateLimit(session, rateLimit.perSecond, Date.now()))
    return [rateLimit.mode === 'closed' ? ['CLOSED', subId, rateLimit.text] : ['NOTICE', rateLimit.text]];
  const refusal = filterRefusal(filters, settings);
  if (refusal !== undefined) {
    if (settings.filterRefusal === 'closed' || refusal === settings.narrowFilterRefusal) return [['CLOSED', subId, refusal]];
    return settings.filterRefusal === 'notice-then-eose'
      ? [
          ['NOTICE', refusal],
          ['EOSE', subId],
        ]
      : [['NOTICE', refusal]];
  }
  if (!isAuthenticated(session) && asksOnlyWithheldKinds(filters, settings))
    return [['CLOSED', subId, 'auth-required: requested filter requires authentication']];
  return undefined;
}

/** What refuses a counted REQ (the rate-limit misbehaviour, NIP-42, too many subscriptions): the CLOSED text, or undefined. */
function refusalAfterCounting(relay: RelayState, session: Session, subId: string, filters: Filter[]): string | undefined {
  const { settings, behaviour } = relay;
  if (behaviour.rateLimitPerSecond > 0 && overRateLimit(session, behaviour.rateLimitPerSecond, Date.now()))
    return 'rate-limited: slow down';
  if (needsAuth(filters, settings) && !isAuthenticated(session)) return 'auth-required: this relay needs NIP-42 authentication';
  if (!session.subscriptions.has(subId) && session.subscriptions.size >= settings.maxSubscriptions)
    return `error: too many subscriptions (max ${settings.maxSubscriptions})`;
  return undefined;
}

export const handleReq: MessageHandler = async (relay, session, [, subId, ...rawFilters]) => {
  if (typeof subId !== 'string' || subId.length === 0)
    return void (await send(relay, session, ['NOTICE', 'invalid: REQ needs a subscription id']));
  if (subId.length > relay.settings.maxSubIdLength)
    return void (await send(relay, session, ['CLOSED', subId, `invalid: subscription id longer than ${relay.settings.maxSubIdLength}`]));
  const filters = parseFilters(rawFilters);
  if (typeof filters === 'string') return void (await send(relay, session, ['CLOSED', subId, `invalid: ${filters}`]));
  relay.counters.reqs.push({ subId, filters });
  if (relay.behaviour.neverAnswerReq) return;
  if (relay.behaviour.answerOnlyFirstReq && session.reqsAnswered > 0) return;
  if (relay.behaviour.deepNestingNotice > 0) await sendText(relay, session, deepNestingNoticeText(relay.behaviour.deepNestingNotice));
  const early = refusalBeforeCounting(relay, session, subId, filters);
  if (early) return sendAll(relay, session, early);
  session.reqsAnswered += 1;
  const refusal = refusalAfterCounting(relay, session, subId, filters);
  if (refusal !== undefined) return void (await send(relay, session, ['CLOSED', subId, refusal]));
  session.subscriptions.set(subId, filters);
  relay.counters.peakSubscriptions = Math.max(relay.counters.peakSubscriptions, session.subscriptions.size);
  await answerReq(relay, session, subId, filters);
};
