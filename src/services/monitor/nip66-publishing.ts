/**
 * The monitor's NIP-66 events (with `monitor.publish`): its kind 0 profile and kind 10002 relay list,
 * a kind 10166 announcement at most once per interval, and a signed kind 30166 report per relay, sent
 * to the configured relays and kept in the archive.
 */
import type { Config } from '../../config/schema.js';
import { ConfigError } from '../../config/errors.js';
import { configuredRelayUrls } from '../../config/relay-url-options.js';
import type { Database } from '../../db/database.js';
import { relayClaims } from '../../db/nip-claims.js';
import {
  monitorAnnouncementTemplate,
  monitorProfileTemplate,
  monitorRelayListTemplate,
  relayDiscoveryTemplate,
  type MonitorIdentity,
  type RelayReport,
} from '../../nostr/nip66.js';
import { signEvent } from '../../nostr/sign.js';
import type { NostrEvent } from '../../nostr/event.js';
import type { Logger } from '../../observability/logger.js';
import { archivePublished } from '../archive-published.js';
import { EventPublisher } from '../event-publisher.js';
import { monitorMetrics } from './metrics.js';
import { takeAnnouncementTurn, type MonitorState } from './state.js';

/** The checks this configuration performs, by their NIP-66 names, with their timeouts. */
export function announcedChecks(config: Config): { checks: string[]; timeoutsMs: Record<string, number> } {
  const monitor = config.monitor;
  const checks = [
    'open',
    'read',
    ...(monitor.write_check ? ['write'] : []),
    'nip11',
    'dns',
    'ssl',
    ...(monitor.geoip_city_database || monitor.geoip_asn_database ? ['geo'] : []),
  ];
  const timeoutsMs: Record<string, number> = {
    open: monitor.open_timeout_ms,
    read: monitor.read_timeout_ms,
    ...(monitor.write_check ? { write: monitor.write_timeout_ms } : {}),
    nip11: monitor.nip11_timeout_ms,
    dns: monitor.dns_timeout_ms,
    ssl: monitor.tls_timeout_ms,
  };
  return { checks, timeoutsMs };
}

/** Publishing needs a key and valid relay URLs: checked before anything runs. */
export function publishRelays(config: Config): string[] {
  if (!config.monitor.publish) return [];
  if (!config.identity.secret_key)
    throw new ConfigError([
      {
        path: 'identity.secret_key',
        message: 'required when monitor.publish is on (give it as a file: BIGBROTR_IDENTITY__SECRET_KEY_FILE)',
      },
    ]);
  if (config.monitor.publish_relays.length === 0)
    throw new ConfigError([{ path: 'monitor.publish_relays', message: 'empty, but monitor.publish is on' }]);
  configuredRelayUrls(config.monitor.profile_relays, 'monitor.profile_relays', config);
  return configuredRelayUrls(config.monitor.publish_relays, 'monitor.publish_relays', config);
}

/** The monitor's profile and relay list as configured (the list defaults to where it publishes). */
export function monitorIdentity(config: Config): MonitorIdentity {
  const monitor = config.monitor;
  const relays =
    monitor.profile_relays.length > 0
      ? configuredRelayUrls(monitor.profile_relays, 'monitor.profile_relays', config)
      : publishRelays(config);
  return {
    name: monitor.profile_name,
    about: monitor.profile_about,
    ...(monitor.profile_picture ? { picture: monitor.profile_picture } : {}),
    relays,
  };
}

/** What publishing needs from the pass: where to archive, what to count, what it remembers, its clock. */
export interface PublishingPass {
  db: Database;
  config: Config;
  logger: Logger;
  /** The pass's summary: accepted and refused events are counted there. */
  tally: { published: number; publishFailures: number };
  state: MonitorState;
  /** Milliseconds since the epoch: decides the announcement interval and the events' created_at. */
  now: () => number;
}

export class Nip66Publishing {
  private constructor(
    private readonly publisher: EventPublisher,
    private readonly secretKey: string,
    private readonly pass: PublishingPass,
  ) {}

  /** Undefined when this configuration does not publish (a ConfigError when it would but cannot). */
  static open(pass: PublishingPass, ca: string[] | undefined): Nip66Publishing | undefined {
    const { config, logger } = pass;
    const publishTo = publishRelays(config);
    const secretKey = config.identity.secret_key;
    if (publishTo.length === 0 || !secretKey) return undefined;
    const publisher = new EventPublisher(publishTo, config.relay, {
      timeoutMs: config.monitor.write_timeout_ms,
      userAgent: config.monitor.user_agent,
      ca,
      logger,
    });
    return new Nip66Publishing(publisher, secretKey, pass);
  }

  private createdAt(): number {
    return Math.floor(this.pass.now() / 1000);
  }

  private async publish(event: NostrEvent): Promise<void> {
    const outcome = await this.publisher.publish(event);
    const accepted = outcome.accepted.length > 0;
    monitorMetrics().published.inc({ kind: String(event.kind), outcome: accepted ? 'accepted' : 'rejected' });
    if (accepted) this.pass.tally.published += 1;
    else this.pass.tally.publishFailures += 1;
    await archivePublished(this.pass.db, event, outcome.accepted, this.pass.logger);
  }

  /**
   * NIP-66: a monitor SHOULD publish a kind 0 profile and a kind 10002 relay list, so that clients
   * can show who reports and find the reports. At a monitor's first pass, then when they change.
   */
  async publishIdentityIfChanged(): Promise<void> {
    const identity = monitorIdentity(this.pass.config);
    const fingerprint = JSON.stringify(identity);
    if (this.pass.state.identity.published === fingerprint) return;
    const createdAt = this.createdAt();
    await this.publish(signEvent(monitorProfileTemplate(identity, { createdAt }), this.secretKey));
    await this.publish(signEvent(monitorRelayListTemplate(identity, { createdAt }), this.secretKey));
    this.pass.state.identity.published = fingerprint;
  }

  /** The kind 10166 announcement, at most once per `monitor.interval_seconds`. */
  async publishAnnouncementIfDue(): Promise<void> {
    const { config, state, now } = this.pass;
    const interval = config.monitor.interval_seconds;
    if (!takeAnnouncementTurn(state, now(), interval)) return;
    const announcement = { frequencySeconds: interval, ...announcedChecks(config) };
    await this.publish(signEvent(monitorAnnouncementTemplate(announcement, { createdAt: this.createdAt() }), this.secretKey));
  }

  /** The kind 30166 report of one relay, with the NIP claims observed on it. */
  async publishReport(relayId: number, report: RelayReport): Promise<void> {
    // Only what was observed: claims proven or disproven by our own probes and use, never `untested`.
    report.claims = (await relayClaims(this.pass.db, relayId))
      .filter((claim) => claim.status !== 'untested')
      .map(({ subject, status }) => ({ subject, status: status as 'verified' | 'refuted' }));
    const includeNip11Content = this.pass.config.monitor.publish_nip11_content;
    await this.publish(signEvent(relayDiscoveryTemplate(report, { createdAt: this.createdAt(), includeNip11Content }), this.secretKey));
  }

  close(): Promise<void> {
    return this.publisher.close();
  }
}
