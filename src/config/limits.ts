/** Maps the `limits` options onto the protocol core's parameters (src/nostr takes no config). */
import type { EventLimits } from '../nostr/event-shape.js';
import type { LimitsConfig } from './schema.js';

export function eventLimitsFrom(limits: LimitsConfig): EventLimits {
  return { maxTags: limits.event_max_tags, maxTagValues: limits.event_max_tag_values, maxTotalLength: limits.event_max_length };
}
