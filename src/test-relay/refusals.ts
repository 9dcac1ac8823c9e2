/** Why the relay refuses a REQ or an event under its options (pure: the caller gives the time and who authenticated). */
import type { NostrEvent } from '../nostr/event.js';
import { hasExpired, type Filter } from './filter.js';
import { DEFAULT_ENFORCED, type TestRelayOptions } from './options.js';
import type { RelaySettings } from './relay-state.js';

const refusalText = (settings: RelaySettings, field: keyof TestRelayOptions['refusalTexts'], max: number): string =>
  settings.refusalTexts[field].replaceAll('{max}', String(max));

/** Why the relay will not run these filters (a list too long, too many filters, a filter too wide), or undefined. */
export function filterRefusal(filters: Filter[], settings: RelaySettings): string | undefined {
  const caps = settings.filterLimits;
  if (caps.filters > 0 && filters.length > caps.filters) return refusalText(settings, 'filters', caps.filters);
  for (const filter of filters) {
    for (const field of ['kinds', 'authors', 'ids'] as const) {
      const cap = caps[field];
      const list = filter[field];
      if (cap > 0 && list && list.length > cap) return refusalText(settings, field, cap);
    }
    const narrow = filter.ids || filter.authors || filter.kinds || Object.keys(filter).some((key) => key.startsWith('#'));
    if (settings.narrowFilterRefusal && !narrow) return settings.narrowFilterRefusal;
  }
  return undefined;
}

/** Why a relay enforcing optional NIPs and NIP-11 limits refuses this event, if it does. */
export function enforcedRefusal(
  event: NostrEvent,
  authedPubkeys: ReadonlySet<string>,
  settings: RelaySettings,
  now: number,
): string | undefined {
  const enforced = { ...DEFAULT_ENFORCED, ...settings.enforces };
  if (enforced.expiration && hasExpired(event, now)) return 'invalid: event has expired';
  if (enforced.protectedEvents && event.tags.some((tag) => tag[0] === '-' && tag.length === 1) && !authedPubkeys.has(event.pubkey)) {
    return 'auth-required: this event may only be published by its author';
  }
  if (enforced.createdAtLowerLimit > 0 && event.created_at < now - enforced.createdAtLowerLimit)
    return 'invalid: created_at is too far in the past';
  if (enforced.createdAtUpperLimit > 0 && event.created_at > now + enforced.createdAtUpperLimit)
    return 'invalid: created_at is too far in the future';
  if (enforced.maxContentLength > 0 && event.content.length > enforced.maxContentLength)
    return `invalid: content longer than ${enforced.maxContentLength} characters`;
  if (enforced.maxEventTags > 0 && event.tags.length > enforced.maxEventTags) return `invalid: more than ${enforced.maxEventTags} tags`;
  return undefined;
}

/** NIP-42: whether these filters need an authenticated connection (all of them, or those asking for protected kinds). */
export function needsAuth(filters: Filter[], settings: RelaySettings): boolean {
  if (settings.authRequired === true) return true;
  if (Array.isArray(settings.authRequired)) {
    const protectedKinds = settings.authRequired;
    return filters.some((filter) => !filter.kinds || filter.kinds.some((kind) => protectedKinds.includes(kind)));
  }
  return false;
}

/** Every filter asks only for kinds served to authenticated readers (strfry refuses such a REQ outright). */
export function asksOnlyWithheldKinds(filters: Filter[], settings: RelaySettings): boolean {
  return (
    settings.withheldKinds.length > 0 &&
    filters.every((filter) => filter.kinds?.length && filter.kinds.every((kind) => settings.withheldKinds.includes(kind)))
  );
}

/** The NOTICE an unknown message type gets, or undefined when the relay stays silent. */
export function unknownMessageNotice(type: string, settings: RelaySettings): ['NOTICE', string] | undefined {
  if (settings.unknownMessage === 'silent') return undefined;
  return ['NOTICE', settings.unknownMessageText.replaceAll('{type}', type.slice(0, 20))];
}
