/**
 * The data vending machine (NIP-90) over the archive: listens on `dvm.relays` for job requests of
 * the kinds in job-kinds.ts, answers each from the archive and publishes the result (or a kind 7000
 * error feedback) to the same relays and to the relays the request names.
 *
 * Every request is untrusted: shape-checked, its id and signature verified, ignored when it is
 * addressed to another provider, older than `dvm.request_max_age_seconds` or already answered (our
 * results are archived, so a restart does not answer twice), rate-limited per customer, and queued
 * with a bound. Jobs run one at a time in read-only transactions with a statement timeout. Listening
 * reconnects with backoff; a relay that drops us only loses its own listener.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../config/schema.js';
import { ConfigError } from '../../config/errors.js';
import { configuredRelayUrls } from '../../config/relay-url-options.js';
import type { Database } from '../../db/database.js';
import { hasReplyTo } from '../../db/event-query.js';
import { ApiTimeoutError } from '../../api/api-query.js';
import { eventLimitsFrom } from '../../config/limits.js';
import type { NostrEvent } from '../../nostr/event.js';
import { validateEventShape } from '../../nostr/event-shape.js';
import { normalizeRelayUrl } from '../../nostr/relay-url.js';
import { loadVerifier } from '../../nostr/schnorr.js';
import { getPublicKey, signEvent, type EventTemplate } from '../../nostr/sign.js';
import { verifyEvent } from '../../nostr/verify-event.js';
import type { Logger } from '../../observability/logger.js';
import { RelayConnection } from '../../relay/connection.js';
import { relayUrlFilter } from '../../relay/url-patterns.js';
import { archivePublished } from '../archive-published.js';
import { EventPublisher } from '../event-publisher.js';
import { relayAddresses } from '../relay-session.js';
import type { Service, ServiceOptions } from '../service.js';
import { FEEDBACK_KIND, isJobKind, JOB_KINDS, resultKindOf, type JobKind } from './job-kinds.js';
import { parseJobRequest, type Job } from './job-request.js';
import { dvmMetrics } from './metrics.js';
import { announcementTemplate, feedbackTemplate, resultOverheadBytes, resultTemplate } from './reply-events.js';
import { JobRefused, runJob } from './run-job.js';

/** Requests remembered as seen (several relays deliver the same one). */
const SEEN_CAPACITY = 10_000;
/** Jobs waiting to run; more are dropped (and counted) rather than held without bound. */
const QUEUE_CAPACITY = 100;
const RECONNECT_MIN_MS = 1_000;
const RECONNECT_MAX_MS = 60_000;
/** Requests dated further ahead than this are ignored (a customer's clock, or a request meant to blind us). */
const MAX_FUTURE_SECONDS = 300;
/** Ping interval of the listening connections (a silent half-open connection is noticed and reopened). */
const KEEP_ALIVE_MS = 30_000;
/** Results sent at once to relays named by requests, each bounded by STRANGER_TIMEOUT_MS. */
const MAX_STRANGER_SENDS = 8;
const STRANGER_TIMEOUT_MS = 5_000;
/** A request whose echo leaves less than this for the answer itself is refused. */
const MIN_CONTENT_BYTES = 1_024;
const ANNOUNCEMENT_IDENTIFIER = 'bigbrotr-dvm';

type JobRequest = NostrEvent & { kind: JobKind };

interface QueuedJob {
  request: JobRequest;
  /** The relay it came from (the `e` tag's relay hint). */
  from: string;
}

/** The relays the machine listens on, normalised; a ConfigError names what is missing (checked before anything opens). */
export function configuredRelays(config: Config): string[] {
  if (!config.identity.secret_key)
    throw new ConfigError([
      {
        path: 'identity.secret_key',
        message: 'required by the data vending machine (dvm.enabled, bigbrotr dvm); give it as a file: BIGBROTR_IDENTITY__SECRET_KEY_FILE',
      },
    ]);
  if (config.dvm.relays.length === 0)
    throw new ConfigError([
      { path: 'dvm.relays', message: 'empty: the data vending machine (dvm.enabled, bigbrotr dvm) needs relays to listen on' },
    ]);
  return configuredRelayUrls(config.dvm.relays, 'dvm.relays', config);
}

/** Answers at most `perMinute` jobs per customer in any sliding minute. */
class CustomerRateLimit {
  private readonly recent = new Map<string, number[]>();
  allow(pubkey: string, nowMs: number, perMinute: number): boolean {
    const times = (this.recent.get(pubkey) ?? []).filter((at) => at > nowMs - 60_000);
    if (times.length >= perMinute) {
      this.recent.set(pubkey, times);
      return false;
    }
    times.push(nowMs);
    this.recent.set(pubkey, times);
    if (this.recent.size > SEEN_CAPACITY) this.recent.delete(this.recent.keys().next().value as string);
    return true;
  }
}

export class DataVendingMachine {
  private readonly seen = new Set<string>();
  private readonly queue: QueuedJob[] = [];
  private wake: (() => void) | undefined;
  private readonly rateLimit = new CustomerRateLimit();
  private readonly verifier = loadVerifier();
  private readonly metrics = dvmMetrics();
  private readonly pubkey: string;
  /** Captured at start: a reload must not change who the machine is halfway (restart to change keys). */
  private readonly secretKey: string;
  private readonly relays: string[];
  private strangerSends = 0;
  private publisher: EventPublisher | undefined;

  constructor(
    private readonly db: Database,
    private config: Config,
    private readonly logger: Logger,
  ) {
    this.relays = configuredRelays(config);
    this.secretKey = config.identity.secret_key as string;
    this.pubkey = getPublicKey(this.secretKey);
  }

  reload(config: Config): void {
    this.config = config;
  }

  async run(signal: AbortSignal): Promise<void> {
    const dvm = this.config.dvm;
    this.publisher = new EventPublisher(this.relays, this.config.relay, {
      timeoutMs: this.config.relay.request_timeout_ms,
      userAgent: this.config.monitor.user_agent,
      logger: this.logger,
    });
    this.logger.info(
      { pubkey: this.pubkey, relays: this.relays, kinds: JOB_KINDS },
      `data vending machine listening for job kinds ${JOB_KINDS.join(', ')}`,
    );
    try {
      if (dvm.announce)
        await this.publish(announcementTemplate({ name: dvm.name, about: dvm.about, identifier: ANNOUNCEMENT_IDENTIFIER }), []);
      await Promise.all([...this.relays.map((url) => this.listen(url, signal)), this.work(signal)]);
    } finally {
      await this.publisher.close();
    }
  }

  /**
   * Keeps one live subscription for job requests open on `url` until stopped. The stored requests
   * (before EOSE) arrive newest first: they are queued oldest first, as they were made, then new ones
   * as they come. After a reconnect the whole `request_max_age_seconds` is asked again; what was seen
   * or answered is skipped.
   */
  private async listen(url: string, signal: AbortSignal): Promise<void> {
    let backoffMs = RECONNECT_MIN_MS;
    while (!signal.aborted) {
      const started = Date.now();
      let connection: RelayConnection | undefined;
      try {
        connection = await RelayConnection.open({
          url,
          config: this.config.relay,
          headers: { 'User-Agent': this.config.monitor.user_agent },
        });
        connection.keepAlive(KEEP_ALIVE_MS);
        const since = Math.floor(Date.now() / 1000) - this.config.dvm.request_max_age_seconds;
        let stored: unknown[] | undefined = [];
        const end = await connection.subscribe(
          [{ kinds: [...JOB_KINDS], since }],
          {
            onEvent: (raw) => {
              if (stored) stored.push(raw);
              else this.receive(raw, url);
            },
            onEose: () => {
              // Oldest first; within one second, the reverse of the relay's (newest-first) order.
              const backlog = (stored ?? []).map((raw, index) => ({
                raw,
                index,
                at: Number((raw as { created_at?: unknown })?.created_at) || 0,
              }));
              stored = undefined;
              for (const { raw } of backlog.sort((a, b) => a.at - b.at || b.index - a.index)) this.receive(raw, url);
            },
          },
          { live: true, signal, subIdPrefix: 'dvm' },
        );
        if (end.reason !== 'aborted') this.logger.info({ relay: url, end }, 'job request subscription ended; reconnecting');
      } catch (error) {
        this.logger.warn({ relay: url, err: error }, 'cannot listen for job requests; retrying');
      } finally {
        connection?.close();
      }
      if (Date.now() - started > RECONNECT_MAX_MS) backoffMs = RECONNECT_MIN_MS;
      await sleep(backoffMs, undefined, { signal }).catch(() => undefined);
      backoffMs = Math.min(backoffMs * 2, RECONNECT_MAX_MS);
    }
  }

  /** Screens one frame's event; queues it when it is a job for us. */
  private receive(raw: unknown, from: string): void {
    const shape = validateEventShape(raw, eventLimitsFrom(this.config.limits));
    if (!shape.ok || !isJobKind(shape.event.kind)) return;
    const request = shape.event as NostrEvent & { kind: JobKind };
    if (this.seen.has(request.id)) return;
    const kind = String(request.kind);
    const ignore = (why: string) => {
      this.metrics.requests.inc({ kind, outcome: 'ignored' });
      this.logger.debug({ request: request.id, relay: from, why }, 'job request ignored');
    };
    // Cheap checks first; the id is remembered only once the signature is verified, so a forged copy
    // from a lax relay cannot hide the real request.
    const now = Math.floor(Date.now() / 1000);
    if (request.created_at < now - this.config.dvm.request_max_age_seconds) return ignore('too old');
    if (request.created_at > now + MAX_FUTURE_SECONDS) return ignore('dated in the future');
    const providers = request.tags.filter((tag) => tag[0] === 'p').map((tag) => tag[1]);
    if (providers.length > 0 && !providers.includes(this.pubkey)) return ignore('addressed to another provider');
    if (!verifyEvent(request, this.verifier).ok) return ignore('bad id or signature');
    this.remember(request.id);
    if (!this.rateLimit.allow(request.pubkey, Date.now(), this.config.dvm.jobs_per_minute_per_customer)) {
      this.metrics.requests.inc({ kind, outcome: 'rate_limited' });
      this.logger.debug({ request: request.id, customer: request.pubkey }, 'job request over the per-customer rate; dropped');
      return;
    }
    if (this.queue.length >= QUEUE_CAPACITY) {
      this.metrics.requests.inc({ kind, outcome: 'queue_full' });
      this.logger.warn({ request: request.id }, `job queue full (${QUEUE_CAPACITY}); request dropped`);
      return;
    }
    this.queue.push({ request, from });
    this.wake?.();
  }

  private remember(id: string): void {
    this.seen.add(id);
    if (this.seen.size > SEEN_CAPACITY) this.seen.delete(this.seen.values().next().value as string);
  }

  /** Runs queued jobs one at a time until stopped. */
  private async work(signal: AbortSignal): Promise<void> {
    const stopped = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    while (!signal.aborted) {
      const next = this.queue.shift();
      if (!next) {
        await Promise.race([new Promise<void>((resolve) => (this.wake = resolve)), stopped]);
        this.wake = undefined;
        continue;
      }
      try {
        await this.answer(next);
      } catch (error) {
        this.logger.warn({ err: error, request: next.request.id }, 'job could not be answered');
      }
    }
  }

  private async answer({ request, from }: QueuedJob): Promise<void> {
    const kind = String(request.kind);
    // Our answers are archived: a request answered before a restart is not answered again.
    if (await hasReplyTo(this.db, { author: this.pubkey, kinds: [resultKindOf(request.kind), FEEDBACK_KIND], eventId: request.id })) {
      this.metrics.requests.inc({ kind, outcome: 'ignored' });
      return;
    }
    const started = performance.now();
    const prepared = this.prepareJob(request, from);
    if ('refusal' in prepared) {
      this.metrics.requests.inc({ kind, outcome: 'refused' });
      await this.publish(feedbackTemplate(request, 'error', prepared.refusal, from), this.replyRelays(request));
      return;
    }
    const template = await this.runAnswer(prepared.job, request, from, prepared.maxContentBytes);
    await this.publish(template, this.replyRelays(request));
    this.metrics.jobDuration.observe({ kind }, (performance.now() - started) / 1000);
  }

  /** The job and the room its result has, or why the request is refused before it runs (encrypted, malformed, too large to echo). */
  private prepareJob(request: JobRequest, from: string): { job: Job; maxContentBytes: number } | { refusal: string } {
    const dvm = this.config.dvm;
    if (request.tags.some((tag) => tag[0] === 'encrypted'))
      return { refusal: 'encrypted job requests are not supported: send the inputs in clear' };
    const parsed = this.parse(request);
    if (!parsed.ok) return { refusal: parsed.reason };
    // The result echoes the request (NIP-90 `request` tag): a request too large to echo and still answer within the size bound is refused.
    const overhead = this.echoOverhead(request, from);
    if (dvm.max_result_bytes - overhead < MIN_CONTENT_BYTES)
      return { refusal: `the request is too large to answer within ${dvm.max_result_bytes} bytes (its echo alone takes ${overhead})` };
    return { job: parsed.job, maxContentBytes: dvm.max_result_bytes - overhead };
  }

  private parse(request: JobRequest): ReturnType<typeof parseJobRequest> {
    return parseJobRequest(request, {
      maxResults: this.config.dvm.max_results,
      maxRelayUrlLength: this.config.relay_url.max_length,
      now: Math.floor(Date.now() / 1000),
    });
  }

  /** The bytes a result spends on everything but its content: the echoed request and the paging tags at their largest. */
  private echoOverhead(request: JobRequest, from: string): number {
    const tags = [
      ['cursor', 'x'.repeat(80)],
      ['count', '0000000000'],
      ['truncated', 'x'.repeat(120)],
    ];
    return resultOverheadBytes(resultTemplate(request, { content: '', tags }, from));
  }

  /** The job's result, or an error feedback saying why it could not be answered. */
  private async runAnswer(job: Job, request: JobRequest, from: string, maxContentBytes: number): Promise<EventTemplate> {
    const kind = String(request.kind);
    const dvm = this.config.dvm;
    try {
      const answer = await runJob(this.db, job, {
        statementTimeoutMs: dvm.statement_timeout_ms,
        maxResults: dvm.max_results,
        maxContentBytes,
      });
      this.metrics.requests.inc({ kind, outcome: 'answered' });
      return resultTemplate(request, answer, from);
    } catch (error) {
      const refused = error instanceof JobRefused;
      this.metrics.requests.inc({ kind, outcome: refused ? 'refused' : 'failed' });
      const info = refused
        ? error.message
        : error instanceof ApiTimeoutError
          ? `the archive did not answer within ${dvm.statement_timeout_ms} ms; narrow the filters`
          : 'internal error';
      if (!refused) this.logger.warn({ err: error, request: request.id }, 'job failed');
      return feedbackTemplate(request, 'error', info, from);
    }
  }

  /** The request's `relays` tag (NIP-90: results SHOULD go there), bounded and not our own relays again. */
  private replyRelays(request: NostrEvent): string[] {
    const dvm = this.config.dvm;
    if (!dvm.reply_to_request_relays) return [];
    const named = request.tags.find((tag) => tag[0] === 'relays')?.slice(1) ?? [];
    const urls = new Set<string>();
    for (const input of named) {
      const normalized = normalizeRelayUrl(input, { maxLength: this.config.relay_url.max_length });
      if (normalized.ok && !this.relays.includes(normalized.url)) urls.add(normalized.url);
      if (urls.size >= dvm.max_reply_relays) break;
    }
    return [...urls];
  }

  /**
   * Signs and sends to our relays, archives where it was accepted, and sends it in the background to
   * `extra` (relays a stranger named: screened, a few at a time, short timeouts), so that slow or
   * hostile relays named in requests never hold up the next job.
   */
  private async publish(template: EventTemplate, extra: string[]): Promise<void> {
    const event = signEvent(template, this.secretKey);
    const accepted = (await this.publisher?.publish(event))?.accepted ?? [];
    this.metrics.published.inc({ kind: String(event.kind), outcome: accepted.length > 0 ? 'accepted' : 'rejected' });
    if (accepted.length === 0) this.logger.warn({ kind: event.kind, id: event.id }, 'no relay accepted the event');
    await archivePublished(this.db, event, accepted, this.logger);
    for (const url of extra) {
      if (this.strangerSends >= MAX_STRANGER_SENDS) {
        this.logger.debug({ relay: url }, 'result not sent to a relay the request named: too many such sends in flight');
        continue;
      }
      this.strangerSends += 1;
      void this.publishToStranger(url, event)
        .then((ok) => (ok ? archivePublished(this.db, event, [url], this.logger) : undefined))
        .finally(() => (this.strangerSends -= 1));
    }
  }

  private async publishToStranger(url: string, event: NostrEvent): Promise<boolean> {
    if (relayUrlFilter(this.config.relay_url).refusal(url)) return false;
    let connection: RelayConnection | undefined;
    try {
      const addresses = await relayAddresses(url, this.config, false);
      connection = await RelayConnection.open({
        url,
        config: { ...this.config.relay, connect_timeout_ms: STRANGER_TIMEOUT_MS },
        headers: { 'User-Agent': this.config.monitor.user_agent },
        ...(addresses.length > 0 ? { addresses } : {}),
      });
      return (await connection.publish(event, STRANGER_TIMEOUT_MS)).accepted;
    } catch (error) {
      this.logger.debug({ relay: url, err: error }, 'result not sent to a relay the request named');
      return false;
    } finally {
      connection?.close();
    }
  }
}

export function createDvmService(options: ServiceOptions): Service {
  const machine = new DataVendingMachine(options.db, options.config(), options.logger);
  return {
    name: 'dvm',
    run: (signal) => machine.run(signal),
    reload: (config) => machine.reload(config),
  };
}
