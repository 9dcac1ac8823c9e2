/** The archive relay's NIP-11 document. */
import type { Config } from '../../config/schema.js';
import { MAX_SUBID_LENGTH } from './messages.js';

const RELAY = 'Read-only Nostr relay over the bigbrotr archive of the Nostr network:';
const REQ_ANSWER = 'REQ returns the archived events matching the filters (newest first) then EOSE';

/** The NIP-11 document of the archive relay (served on GET / with `Accept: application/nostr+json`). */
export function archiveNip11Document(config: Config, version: string): Record<string, unknown> {
  const api = config.api;
  return {
    name: 'bigbrotr archive',
    description:
      api.relay_live_poll_ms > 0
        ? `${RELAY} ${REQ_ANSWER}, then streams newly archived events that match until CLOSE; COUNT counts them. Publishing is refused.`
        : `${RELAY} ${REQ_ANSWER}, COUNT counts them. Nothing is streamed after EOSE and publishing is refused.`,
    software: 'bigbrotr',
    version,
    supported_nips: [1, 11, 45],
    limitation: {
      max_message_length: api.relay_max_message_bytes,
      max_subscriptions: api.relay_max_subscriptions,
      max_limit: api.relay_max_limit,
      default_limit: api.relay_max_limit,
      max_subid_length: MAX_SUBID_LENGTH,
      auth_required: false,
      payment_required: false,
      restricted_writes: true,
    },
  };
}
