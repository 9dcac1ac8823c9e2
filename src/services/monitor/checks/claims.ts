/**
 * Tests what a relay claims in its NIP-11 document against what it does, with bounded, polite
 * probes on one connection, one request at a time with a pause between them. Only what is claimed
 * is probed. Read probes always run; probes that publish run only when the operator allows writes
 * (`monitor.write_check` and `monitor.claim_probe_writes`), use kind 1 events that say what they are,
 * and delete what they stored afterwards (NIP-09) where the relay keeps it.
 *
 * A probe proves a claim `verified` or `refuted` only with an answer that shows it; silence, a
 * timeout or a refused write prove nothing and leave it `untested`, with what happened as evidence.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RelayClientConfig } from '../../../config/schema.js';
import type { NostrEvent } from '../../../nostr/event.js';
import type { Nip11Document } from '../../../nostr/nip11.js';
import { signEvent, type EventTemplate } from '../../../nostr/sign.js';
import { RelayConnection, type SubscriptionEnd } from '../../../relay/connection.js';

export type ProbeStatus = 'verified' | 'refuted' | 'untested';

export interface ClaimFinding {
  /** A NIP number (`50`) or a NIP-11 limitation (`limitation.max_subscriptions`). */
  subject: string;
  status: ProbeStatus;
  evidence: string;
}

export interface ClaimProbeOptions {
  url: string;
  relay: RelayClientConfig;
  addresses?: string[];
  ca?: string[];
  userAgent: string;
  /** Timeout of the connection and of each request. */
  timeoutMs: number;
  /** Pause between two requests (politeness). */
  paceMs: number;
  document: Nip11Document;
  /** Publish probe events signed with this key; unset: read probes only. */
  writeKey?: string;
  /** How long a NIP-40 probe event lives before it is asked for again (seconds). */
  expirationSeconds?: number;
  /** Ends the probes (shutdown, or the overall deadline). */
  signal?: AbortSignal;
}

/** Subscriptions opened at once to test `max_subscriptions` are bounded: a larger claim is not probed. */
export const MAX_SUBSCRIPTION_PROBE = 50;
/** Bytes read per probe request at most (a hostile relay cannot make us buffer more). */
const MAX_READ_BYTES = 2 * 1024 * 1024;
/** Events read to look for expired ones (NIP-40, read-only). */
const EXPIRED_SCAN_LIMIT = 200;
/** Writes of more than this many characters or tags are not sent to test a limit. */
const MAX_PROBE_CONTENT = 70_000;
const MAX_PROBE_TAGS = 2_100;

function endText(end: SubscriptionEnd): string {
  if (end.reason === 'closed' || end.reason === 'notice') return `${end.reason.toUpperCase()} "${end.message.slice(0, 200)}"`;
  if (end.reason === 'disconnected') return `the connection dropped (${end.message.slice(0, 200)})`;
  return end.reason === 'eose' ? 'EOSE' : `no answer (${end.reason})`;
}

const answered = (end: SubscriptionEnd) => end.reason === 'eose';
const refusedRequest = (end: SubscriptionEnd) => end.reason === 'closed' || end.reason === 'notice';
/**
 * A refusal for a reason other than the request itself (AUTH wanted, rate limits, policy, a relay
 * error) says nothing about the feature probed.
 */
const OTHER_REASON = /^(auth-required|rate-limited|restricted|blocked|error|pow|duplicate):/i;
/** A CLOSED refusing the request itself (a NOTICE may be a banner; CLOSED names our subscription). */
const closedForItself = (end: SubscriptionEnd) => end.reason === 'closed' && !OTHER_REASON.test(end.message.trim());
/** An OK false that refuses the event itself, not our standing with the relay. */
const refusesEvent = (message: string) => !OTHER_REASON.test(message.trim());

class Prober {
  readonly findings: ClaimFinding[] = [];
  private first = true;

  constructor(
    private readonly connection: RelayConnection,
    private readonly options: ClaimProbeOptions,
  ) {}

  get signal(): AbortSignal | undefined {
    return this.options.signal;
  }

  add(subject: string, status: ProbeStatus, evidence: string): void {
    this.findings.push({ subject, status, evidence });
  }

  private async pace(): Promise<void> {
    if (!this.first) await sleep(this.options.paceMs);
    this.first = false;
  }

  async read(filters: object[]): Promise<{ events: unknown[]; end: SubscriptionEnd }> {
    await this.pace();
    const events: unknown[] = [];
    const end = await this.connection.subscribe(
      filters,
      { onEvent: (event) => events.push(event) },
      { subIdPrefix: 'probe', maxBytes: MAX_READ_BYTES, signal: this.options.signal },
    );
    return { events, end };
  }

  async publish(
    template: EventTemplate,
  ): Promise<{ event: NostrEvent; accepted: boolean; message: string } | { event: NostrEvent; error: string }> {
    await this.pace();
    const event = signEvent(template, this.options.writeKey as string);
    try {
      const result = await this.connection.publish(event, this.options.timeoutMs);
      // A lost connection answers `accepted: false` too: that is no answer, not a refusal.
      if (!result.accepted && !this.connection.isOpen) return { event, error: result.message };
      return { event, accepted: result.accepted, message: result.message };
    } catch (error) {
      return { event, error: error instanceof Error ? error.message : 'no answer' };
    }
  }

  /** Whether the relay still serves this id (undefined: no proof either way). */
  async serves(id: string): Promise<boolean | undefined> {
    const { events, end } = await this.read([{ ids: [id], limit: 1 }]);
    if (events.length > 0) return true;
    return answered(end) ? false : undefined;
  }

  /** Deletes our probe events (NIP-09), best effort: the relay may not honour it. */
  async cleanUp(ids: string[]): Promise<void> {
    if (ids.length === 0 || !this.options.writeKey) return;
    await this.publish({ kind: 5, content: 'bigbrotr claim probe: cleaning up', tags: ids.map((id) => ['e', id]) });
  }
}

const probeNote = (what: string): string => `bigbrotr relay monitor: NIP-11 claim probe (${what}); deleted right after`;

/**
 * NIP-50: a search for a term no event contains must come back empty (unrelated events: `search`
 * is ignored), and a search for a word of an event the relay just served must find something (else
 * an empty answer proves nothing: an empty or read-restricted relay answers every search empty).
 */
async function probeSearch(prober: Prober): Promise<void> {
  const term = `bigbrotr-probe-${randomBytes(8).toString('hex')}`;
  const { events, end } = await prober.read([{ search: term, limit: 5 }]);
  if (events.length > 0)
    return prober.add(
      '50',
      'refuted',
      `a search for a term no event contains (${term}) was answered with ${events.length} unrelated event(s): the search field is ignored`,
    );
  if (closedForItself(end)) return prober.add('50', 'refuted', `a search filter was refused: ${endText(end)}`);
  if (!answered(end)) return prober.add('50', 'untested', `a search filter got ${endText(end)}`);
  const sample = await prober.read([{ kinds: [1], limit: 5 }]);
  const word = sample.events
    .map((event) =>
      typeof (event as { content?: unknown }).content === 'string'
        ? ((event as { content: string }).content.match(/[\p{L}]{5,20}/u)?.[0] ?? '')
        : '',
    )
    .find((candidate) => candidate.length > 0);
  if (!word) return prober.add('50', 'untested', 'nothing to search for: the relay served no kind 1 note with a word in it');
  const found = await prober.read([{ search: word, limit: 5 }]);
  if (found.events.length > 0)
    return prober.add(
      '50',
      'verified',
      `a search for a term nothing holds came back empty, and one for "${word}" (from a note it served) ` +
        `found ${found.events.length} event(s)`,
    );
  prober.add('50', 'untested', `a search for "${word}", from a note it served, found nothing (${endText(found.end)})`);
}

/** NIP-40 read-only: an event served after its expiration refutes the claim; none seen proves nothing. */
async function scanExpired(prober: Prober): Promise<boolean> {
  const { events } = await prober.read([{ limit: EXPIRED_SCAN_LIMIT }]);
  const now = Math.floor(Date.now() / 1000);
  for (const raw of events) {
    const event = raw as { id?: unknown; tags?: unknown };
    if (!Array.isArray(event.tags)) continue;
    const expiration = (event.tags as unknown[]).find(
      (tag): tag is string[] => Array.isArray(tag) && tag[0] === 'expiration' && typeof tag[1] === 'string',
    );
    // A minute of grace for clocks and for relays that sweep expired events periodically.
    if (expiration && /^\d+$/.test(expiration[1] as string) && Number(expiration[1]) < now - 60) {
      prober.add('40', 'refuted', `served event ${String(event.id).slice(0, 64)} whose expiration (${expiration[1]}) had passed`);
      return true;
    }
  }
  return false;
}

async function probeExpirationByWrite(prober: Prober, lifeSeconds: number, stored: string[]): Promise<void> {
  const expiration = Math.floor(Date.now() / 1000) + lifeSeconds;
  const sent = await prober.publish({ kind: 1, content: probeNote('NIP-40 expiration'), tags: [['expiration', String(expiration)]] });
  if ('error' in sent || !sent.accepted)
    return prober.add('40', 'untested', `the probe event was not accepted: ${'error' in sent ? sent.error : sent.message}`);
  stored.push(sent.event.id);
  // Only a relay seen serving our event before it expired proves anything by not serving it after.
  if ((await prober.serves(sent.event.id)) !== true)
    return prober.add('40', 'untested', 'the relay accepted our probe event but did not serve it back before it expired');
  await sleep(Math.max(0, expiration + 1 - Date.now() / 1000) * 1000, undefined, { signal: prober.signal }).catch(() => undefined);
  const served = await prober.serves(sent.event.id);
  if (served === undefined) return prober.add('40', 'untested', 'the expired probe event was asked for again and got no answer');
  prober.add(
    '40',
    served ? 'refuted' : 'verified',
    served ? `served our probe event ${lifeSeconds} s after it expired` : 'stopped serving our probe event once it expired',
  );
}

async function probeDeletion(prober: Prober, stored: string[]): Promise<void> {
  const sent = await prober.publish({ kind: 1, content: probeNote('NIP-09 deletion'), tags: [] });
  if ('error' in sent || !sent.accepted)
    return prober.add('9', 'untested', `the probe event was not accepted: ${'error' in sent ? sent.error : sent.message}`);
  stored.push(sent.event.id);
  if ((await prober.serves(sent.event.id)) !== true)
    return prober.add('9', 'untested', 'the relay accepted our probe event but did not serve it back');
  const deletion = await prober.publish({
    kind: 5,
    content: 'bigbrotr claim probe',
    tags: [
      ['e', sent.event.id],
      ['k', '1'],
    ],
  });
  if ('error' in deletion) return prober.add('9', 'untested', `no answer to our deletion request: ${deletion.error}`);
  if (!deletion.accepted)
    return prober.add(
      '9',
      refusesEvent(deletion.message) ? 'refuted' : 'untested',
      `refused a deletion request of our own event: "${deletion.message.slice(0, 200)}"`,
    );
  const served = await prober.serves(sent.event.id);
  if (served === undefined) return prober.add('9', 'untested', 'the deleted probe event was asked for again and got no answer');
  if (!served) stored.splice(stored.indexOf(sent.event.id), 1);
  prober.add(
    '9',
    served ? 'refuted' : 'verified',
    served ? 'still served our event after accepting our deletion request' : 'stopped serving our event after our deletion request',
  );
}

async function probeProtected(prober: Prober, stored: string[]): Promise<void> {
  // We never authenticate on this connection: a relay honouring NIP-70 must refuse the event.
  const sent = await prober.publish({ kind: 1, content: probeNote('NIP-70 protected event, sent without AUTH'), tags: [['-']] });
  if ('error' in sent) return prober.add('70', 'untested', `no answer to a protected event: ${sent.error}`);
  if (sent.accepted) {
    stored.push(sent.event.id);
    return prober.add('70', 'refuted', 'accepted a protected event (["-"] tag) from a connection that had not authenticated');
  }
  // NIP-70: the relay must ask for AUTH; any other refusal (rate limit, policy) proves nothing.
  if (!/^auth-required:/i.test(sent.message.trim()))
    return prober.add('70', 'untested', `refused a protected event, but not with auth-required: "${sent.message.slice(0, 200)}"`);
  prober.add('70', 'verified', `refused a protected event without AUTH: "${sent.message.slice(0, 200)}"`);
}

/** A write that breaks a claimed limit must be refused; accepted, the limit is not enforced. */
async function probeLimitWrite(prober: Prober, subject: string, template: EventTemplate, what: string, stored: string[]): Promise<void> {
  const sent = await prober.publish(template);
  if ('error' in sent) return prober.add(subject, 'untested', `no answer to ${what}: ${sent.error}`);
  if (sent.accepted) {
    stored.push(sent.event.id);
    return prober.add(subject, 'refuted', `accepted ${what}`);
  }
  if (!refusesEvent(sent.message))
    return prober.add(subject, 'untested', `refused ${what}, but for another reason: "${sent.message.slice(0, 200)}"`);
  prober.add(subject, 'verified', `refused ${what}: "${sent.message.slice(0, 200)}"`);
}

/** `max_subscriptions` N: N+1 subscriptions held open at once (opened 20 ms apart); the last must be refused. */
async function probeMaxSubscriptions(connection: RelayConnection, prober: Prober, claimed: number, timeoutMs: number): Promise<void> {
  const ends: Promise<SubscriptionEnd>[] = [];
  const abort = new AbortController();
  let eoses = 0;
  const refused: string[] = [];
  // Some relays refuse the extra subscription with a NOTICE instead of CLOSED.
  const onNotice = (message: string) => {
    if (/subscri|\bREQs?\b/i.test(message) && /too many|max|limit|exceed/i.test(message)) refused.push(`NOTICE "${message.slice(0, 200)}"`);
  };
  connection.on('notice', onNotice);
  const filter = { ids: [randomBytes(32).toString('hex')], limit: 1 };
  for (let index = 0; index <= claimed && !prober.signal?.aborted; index += 1) {
    if (index > 0) await sleep(20);
    const end = connection.subscribe(
      [filter],
      { onEvent: () => undefined, onEose: () => (eoses += 1) },
      { live: true, signal: abort.signal, subIdPrefix: 'probe' },
    );
    // Relays word this refusal freely (`error: too many subscriptions`); AUTH demands and rate limits are about something else.
    void end.then((value) => {
      if (value.reason === 'closed' && !/^(auth-required|rate-limited):/i.test(value.message.trim()))
        refused.push(`CLOSED "${value.message.slice(0, 200)}"`);
    });
    ends.push(end);
  }
  // One request timeout for them all to be answered, then a short wait for a refusal still in flight.
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && eoses + refused.length < claimed + 1 && !prober.signal?.aborted) await sleep(20);
  await sleep(300);
  abort.abort();
  await Promise.all(ends);
  connection.off('notice', onNotice);
  if (refused.length > 0)
    return prober.add(
      'limitation.max_subscriptions',
      'verified',
      `of ${claimed + 1} subscriptions held at once, ${refused.length} refused: ${refused[0]}`,
    );
  if (eoses === claimed + 1)
    return prober.add('limitation.max_subscriptions', 'refuted', `held ${claimed + 1} subscriptions open at once (claims ${claimed})`);
  prober.add('limitation.max_subscriptions', 'untested', `${eoses} of ${claimed + 1} subscriptions answered in time`);
}

/** Whether the document claims anything these probes test (nothing claimed: no connection is opened). */
export function probeableClaims(document: Nip11Document): boolean {
  const nips = document.supported_nips ?? [];
  const limitation = document.limitation ?? {};
  return (
    [50, 40, 9, 70].some((nip) => nips.includes(nip)) ||
    limitation.auth_required === true ||
    ['max_subscriptions', 'created_at_lower_limit', 'created_at_upper_limit', 'max_content_length', 'max_event_tags'].some(
      (field) => typeof limitation[field as keyof typeof limitation] === 'number',
    )
  );
}

type Limitation = NonNullable<Nip11Document['limitation']>;

export async function probeClaims(options: ClaimProbeOptions): Promise<ClaimFinding[]> {
  const { document } = options;
  const nips = new Set(document.supported_nips ?? []);
  const limitation = document.limitation ?? {};
  const config = {
    ...options.relay,
    connect_timeout_ms: options.timeoutMs,
    request_timeout_ms: options.timeoutMs,
    idle_timeout_ms: options.timeoutMs,
  };
  const connection = await RelayConnection.open({
    url: options.url,
    config,
    addresses: options.addresses,
    ca: options.ca,
    headers: { 'User-Agent': options.userAgent },
  });
  const prober = new Prober(connection, options);
  const stored: string[] = [];
  const writes = options.writeKey !== undefined;
  try {
    if (limitation.auth_required === true) await probeAuthRequired(connection, prober);
    if (nips.has(50)) await probeSearch(prober);
    if (typeof limitation.max_subscriptions === 'number' && limitation.max_subscriptions > 0)
      await probeMaxSubscriptionsClaim(connection, prober, limitation.max_subscriptions, options.timeoutMs);
    if (nips.has(40)) await probeExpiration(prober, writes, options.expirationSeconds ?? 3, stored);
    const writeSubjects = writeClaimSubjects(nips, limitation);
    if (writes && writeSubjects.length > 0) await probeWriteClaims(prober, { nips, limitation, subjects: writeSubjects }, stored);
    else if (!writes) {
      for (const subject of writeSubjects) prober.add(subject, 'untested', 'needs a write; monitor.claim_probe_writes is off');
    }
  } finally {
    // Best effort, even after a failure or a shutdown: our probe notes should not stay on the relay.
    if (connection.isOpen) await prober.cleanUp(stored).catch(() => undefined);
    connection.close();
  }
  return prober.findings;
}

async function probeAuthRequired(connection: RelayConnection, prober: Prober): Promise<void> {
  const { events, end } = await prober.read([{ kinds: [1], limit: 1 }]);
  if (events.length > 0 || (answered(end) && !connection.authChallenge))
    prober.add('limitation.auth_required', 'refuted', `answered a REQ without authentication (${events.length} event(s), ${endText(end)})`);
  else if (refusedRequest(end) && /auth-required/i.test(endText(end)))
    prober.add('limitation.auth_required', 'verified', `refused a REQ before AUTH: ${endText(end)}`);
  else prober.add('limitation.auth_required', 'untested', `a REQ before AUTH got ${endText(end)}`);
}

async function probeMaxSubscriptionsClaim(connection: RelayConnection, prober: Prober, claimed: number, timeoutMs: number): Promise<void> {
  if (claimed <= MAX_SUBSCRIPTION_PROBE) await probeMaxSubscriptions(connection, prober, claimed, timeoutMs);
  else
    prober.add(
      'limitation.max_subscriptions',
      'untested',
      `claims ${claimed}: more than the ${MAX_SUBSCRIPTION_PROBE} subscriptions we open to test it`,
    );
}

/** NIP-40: an expired event among the newest refutes it; otherwise a short-lived probe event, when writes are allowed. */
async function probeExpiration(prober: Prober, writes: boolean, lifeSeconds: number, stored: string[]): Promise<void> {
  const refuted = await scanExpired(prober);
  if (!refuted && writes) await probeExpirationByWrite(prober, lifeSeconds, stored);
  else if (!refuted)
    prober.add(
      '40',
      'untested',
      `no expired event among the ${EXPIRED_SCAN_LIMIT} newest; publishing a probe needs monitor.claim_probe_writes`,
    );
}

/** The claims only a write can test: NIP-09 and NIP-70, and the limits on what an event may hold. */
function writeClaimSubjects(nips: Set<number>, limitation: Limitation): string[] {
  return [
    ...[9, 70].filter((nip) => nips.has(nip)).map(String),
    ...(['created_at_lower_limit', 'created_at_upper_limit', 'max_content_length', 'max_event_tags'] as const)
      .filter((field) => typeof limitation[field] === 'number' && (limitation[field] as number) > 0)
      .map((field) => `limitation.${field}`),
  ];
}

async function probeWriteClaims(
  prober: Prober,
  claims: { nips: Set<number>; limitation: Limitation; subjects: string[] },
  stored: string[],
): Promise<void> {
  // A refused probe proves a limit only if the relay takes our plain events: one control write first.
  const control = await prober.publish({ kind: 1, content: probeNote('control write'), tags: [] });
  if ('error' in control || !control.accepted) {
    const why = 'error' in control ? control.error : control.message;
    for (const subject of claims.subjects)
      prober.add(subject, 'untested', `our plain probe event was not accepted, so a refusal would prove nothing: ${why.slice(0, 200)}`);
    return;
  }
  stored.push(control.event.id);
  if (claims.nips.has(9)) await probeDeletion(prober, stored);
  if (claims.nips.has(70)) await probeProtected(prober, stored);
  await probeCreatedAtLimits(prober, claims.limitation, stored);
  await probeSizeLimits(prober, claims.limitation, stored);
}

async function probeCreatedAtLimits(prober: Prober, limitation: Limitation, stored: string[]): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  const lower = limitation.created_at_lower_limit;
  if (typeof lower === 'number' && lower > now - 3_600) {
    prober.add('limitation.created_at_lower_limit', 'untested', `claims ${lower} s: no valid created_at lies that far back`);
  } else if (typeof lower === 'number' && lower > 0) {
    await probeLimitWrite(
      prober,
      'limitation.created_at_lower_limit',
      { kind: 1, content: probeNote('created_at_lower_limit'), tags: [], created_at: now - lower - 3_600 },
      `an event dated an hour before its created_at_lower_limit (${lower} s)`,
      stored,
    );
  }
  const upper = limitation.created_at_upper_limit;
  if (typeof upper === 'number' && upper > 0) {
    await probeLimitWrite(
      prober,
      'limitation.created_at_upper_limit',
      { kind: 1, content: probeNote('created_at_upper_limit'), tags: [], created_at: now + upper + 3_600 },
      `an event dated an hour past its created_at_upper_limit (${upper} s)`,
      stored,
    );
  }
}

async function probeSizeLimits(prober: Prober, limitation: Limitation, stored: string[]): Promise<void> {
  const maxContent = limitation.max_content_length;
  if (typeof maxContent === 'number' && maxContent > 0 && maxContent < MAX_PROBE_CONTENT) {
    const prefix = probeNote('max_content_length');
    await probeLimitWrite(
      prober,
      'limitation.max_content_length',
      { kind: 1, content: prefix + '.'.repeat(Math.max(0, maxContent + 1 - prefix.length)), tags: [] },
      `content of ${Math.max(maxContent + 1, prefix.length)} characters (claims ${maxContent})`,
      stored,
    );
  }
  const maxTags = limitation.max_event_tags;
  if (typeof maxTags === 'number' && maxTags > 0 && maxTags < MAX_PROBE_TAGS) {
    await probeLimitWrite(
      prober,
      'limitation.max_event_tags',
      {
        kind: 1,
        content: probeNote('max_event_tags'),
        tags: Array.from({ length: maxTags + 1 }, (_, index) => ['t', `probe${index}`]),
      },
      `an event with ${maxTags + 1} tags (claims ${maxTags})`,
      stored,
    );
  }
}
