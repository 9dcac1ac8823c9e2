/**
 * Events that bigbrotr signs and publishes (the monitor's NIP-66 reports, the data vending machine's
 * results) are archived like any other, with the relays that accepted them as where they were seen.
 * A failure to store one is logged, never fatal: the event is out on the network either way.
 */
import type { Database } from '../db/database.js';
import { insertEventBatch } from '../db/events.js';
import { getOrCreateRelayIds } from '../db/relays.js';
import type { NostrEvent } from '../nostr/event.js';
import { normalizeRelayUrl } from '../nostr/relay-url.js';
import type { Logger } from '../observability/logger.js';

export async function archivePublished(db: Database, event: NostrEvent, acceptedBy: string[], logger: Logger): Promise<void> {
  try {
    const candidates = acceptedBy.flatMap((url) => {
      const normalized = normalizeRelayUrl(url);
      return normalized.ok ? [{ url: normalized.url, network: normalized.network }] : [];
    });
    const relayIds = [...(await getOrCreateRelayIds(db, candidates, 'config')).values()];
    if (relayIds.length === 0) await insertEventBatch(db, [event], null);
    for (const relayId of relayIds) await insertEventBatch(db, [event], relayId);
  } catch (error) {
    logger.warn({ err: error, kind: event.kind }, 'could not store a published event in the archive');
  }
}
