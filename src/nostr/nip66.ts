/**
 * NIP-66 event templates: kind 30166 (what one check of one relay found) and kind 10166 (the
 * monitor's announcement). Only the tags of checks actually done appear; multiple values are repeated
 * tags, never packed into one. Pure: signing and publishing are the caller's.
 */
import type { EventTemplate } from './sign.js';
import type { Nip11Document } from './nip11.js';

export const RELAY_DISCOVERY_KIND = 30166;
export const MONITOR_ANNOUNCEMENT_KIND = 10166;
export const PROFILE_KIND = 0;
export const RELAY_LIST_KIND = 10002;

/** Who the monitor is: NIP-66 says a monitor SHOULD publish a kind 0 profile and a kind 10002 relay list. */
export interface MonitorIdentity {
  name: string;
  about: string;
  picture?: string;
  /** Where the monitor publishes (and where clients should look for its reports). */
  relays: string[];
}

/** Kind 0 (NIP-01 metadata): name, about and picture as JSON content. */
export function monitorProfileTemplate(identity: MonitorIdentity, options: { createdAt: number }): EventTemplate {
  const metadata: Record<string, string> = { name: identity.name, about: identity.about };
  if (identity.picture) metadata.picture = identity.picture;
  return { kind: PROFILE_KIND, created_at: options.createdAt, tags: [], content: JSON.stringify(metadata) };
}

/** Kind 10002 (NIP-65): one `r` tag per relay, no marker (the monitor reads and writes there). */
export function monitorRelayListTemplate(identity: MonitorIdentity, options: { createdAt: number }): EventTemplate {
  return { kind: RELAY_LIST_KIND, created_at: options.createdAt, tags: identity.relays.map((url) => ['r', url]), content: '' };
}

export interface RelayReport {
  /** The relay's normalised URL (the `d` tag). */
  url: string;
  network: 'clearnet' | 'tor' | 'i2p' | 'loki';
  rttOpenMs?: number;
  rttReadMs?: number;
  rttWriteMs?: number;
  /** The parsed NIP-11 document, when the nip11 check succeeded. */
  nip11?: Nip11Document;
  /** The document as served, for the content. */
  nip11Raw?: Record<string, unknown>;
  requirements?: { auth: boolean; payment: boolean; writes: boolean; pow: boolean };
  geohash?: string;
  /** NIP-11 claims observed to hold or not (bigbrotr's `claim` tags; docs/nips.md). */
  claims?: { subject: string; status: 'verified' | 'refuted' }[];
}

const requirementTag = (name: string, required: boolean): string[] => ['R', required ? name : `!${name}`];

export function relayDiscoveryTemplate(report: RelayReport, options: { createdAt: number; includeNip11Content: boolean }): EventTemplate {
  const tags: string[][] = [
    ['d', report.url],
    ['n', report.network],
  ];
  if (report.rttOpenMs !== undefined) tags.push(['rtt-open', String(Math.round(report.rttOpenMs))]);
  if (report.rttReadMs !== undefined) tags.push(['rtt-read', String(Math.round(report.rttReadMs))]);
  if (report.rttWriteMs !== undefined) tags.push(['rtt-write', String(Math.round(report.rttWriteMs))]);
  for (const nip of report.nip11?.supported_nips ?? []) tags.push(['N', String(nip)]);
  if (report.requirements) {
    tags.push(requirementTag('auth', report.requirements.auth));
    tags.push(requirementTag('payment', report.requirements.payment));
    tags.push(requirementTag('writes', report.requirements.writes));
    tags.push(requirementTag('pow', report.requirements.pow));
  }
  for (const topic of new Set(
    (report.nip11?.tags ?? []).map((tag) => tag.trim().toLowerCase()).filter((tag) => tag.length > 0 && tag.length <= 64),
  ))
    tags.push(['t', topic]);
  for (const language of new Set((report.nip11?.language_tags ?? []).map((tag) => tag.trim().toLowerCase()))) {
    // NIP-66 labels languages with the ISO-639-1 namespace: two-letter codes only (`en`, not `en-US` or `*`).
    const primary = language.split('-')[0] ?? '';
    if (/^[a-z]{2}$/.test(primary)) tags.push(['l', primary, 'ISO-639-1']);
  }
  if (report.geohash) tags.push(['g', report.geohash]);
  for (const claim of report.claims ?? []) tags.push(['claim', claim.subject, claim.status]);
  const unique = [...new Map(tags.map((tag) => [tag.join('\u0000'), tag])).values()];
  const content = options.includeNip11Content && report.nip11Raw ? JSON.stringify(report.nip11Raw) : '';
  return { kind: RELAY_DISCOVERY_KIND, created_at: options.createdAt, tags: unique, content };
}

export interface MonitorAnnouncement {
  frequencySeconds: number;
  /** Timeout per check name (lowercase NIP-66 check names), in milliseconds. */
  timeoutsMs: Record<string, number>;
  /** Checks performed, lowercase (`open`, `read`, `write`, `nip11`, `dns`, `ssl`, `geo`). */
  checks: string[];
  geohash?: string;
}

export function monitorAnnouncementTemplate(announcement: MonitorAnnouncement, options: { createdAt: number }): EventTemplate {
  const tags: string[][] = [];
  for (const [check, timeoutMs] of Object.entries(announcement.timeoutsMs)) tags.push(['timeout', check, String(Math.round(timeoutMs))]);
  tags.push(['frequency', String(announcement.frequencySeconds)]);
  for (const check of announcement.checks) tags.push(['c', check]);
  if (announcement.geohash) tags.push(['g', announcement.geohash]);
  return { kind: MONITOR_ANNOUNCEMENT_KIND, created_at: options.createdAt, tags, content: '' };
}
