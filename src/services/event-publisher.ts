/**
 * Sends signed events (the monitor's NIP-66 reports, the data vending machine's results) to a set of
 * relays over connections kept open between sends (reopened when a relay drops them). A relay that
 * refuses or is down only loses its copy.
 */
import type { RelayClientConfig } from '../config/schema.js';
import type { NostrEvent } from '../nostr/event.js';
import type { Logger } from '../observability/logger.js';
import { RelayConnection } from '../relay/connection.js';
import { errorMessage } from '../error-message.js';

export interface PublishOutcome {
  accepted: string[];
  rejected: { url: string; reason: string }[];
}

export class EventPublisher {
  private readonly connections = new Map<string, Promise<RelayConnection>>();

  constructor(
    private readonly urls: string[],
    private readonly relay: RelayClientConfig,
    private readonly options: { timeoutMs: number; userAgent: string; ca?: string[]; logger: Logger },
  ) {}

  private connection(url: string): Promise<RelayConnection> {
    const existing = this.connections.get(url);
    if (existing) {
      return existing.then(
        (connection) => (connection.isOpen ? connection : this.reconnect(url)),
        () => this.reconnect(url),
      );
    }
    return this.reconnect(url);
  }

  private reconnect(url: string): Promise<RelayConnection> {
    const opening = RelayConnection.open({
      url,
      config: { ...this.relay, connect_timeout_ms: this.options.timeoutMs },
      ca: this.options.ca,
      headers: { 'User-Agent': this.options.userAgent },
    });
    opening.catch(() => undefined);
    this.connections.set(url, opening);
    return opening;
  }

  async publish(event: NostrEvent): Promise<PublishOutcome> {
    const outcome: PublishOutcome = { accepted: [], rejected: [] };
    await Promise.all(
      this.urls.map(async (url) => {
        try {
          const result = await (await this.connection(url)).publish(event, this.options.timeoutMs);
          if (result.accepted) outcome.accepted.push(url);
          else outcome.rejected.push({ url, reason: result.message });
        } catch (error) {
          outcome.rejected.push({ url, reason: errorMessage(error) });
        }
      }),
    );
    if (outcome.rejected.length > 0)
      this.options.logger.debug({ kind: event.kind, rejected: outcome.rejected }, 'published event not accepted everywhere');
    return outcome;
  }

  async close(): Promise<void> {
    const opened = await Promise.allSettled(this.connections.values());
    for (const result of opened) if (result.status === 'fulfilled') result.value.close();
    this.connections.clear();
  }
}
