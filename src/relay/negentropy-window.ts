/**
 * Completeness through NIP-77: reconcile a time window of a relay against what the archive already
 * holds from that relay, then fetch exactly the missing events by id. Unlike since/until pagination
 * this has no hole at crowded seconds, catches late or backdated events anywhere in the window, and
 * costs almost nothing when nothing is new.
 *
 * Windows too large for one session (more local records than configured, or the relay answering
 * NEG-ERR such as `blocked: too many query results`) are split in two by time, down to one second.
 */
import type { NostrEvent } from '../nostr/event.js';
import { Negentropy, NegentropyStorage, type NegentropyItem } from '../nostr/negentropy.js';
import type { RelayConnection } from './connection.js';
import { RelayNetworkError, RelayProtocolError } from './errors.js';
import { RelayRefusedError, type FetchIds } from './fetch-page.js';
import { messagePrefix } from './messages.js';
import type { RequestGuard } from './request-guard.js';

/** The relay does not speak NIP-77 (NOTICE or silence on NEG-OPEN): use REQ pagination. */
export class NegentropyUnsupportedError extends RelayProtocolError {
  constructor(relayUrl: string, detail: string) {
    super(relayUrl, `negentropy not supported: ${detail}`);
    this.name = 'NegentropyUnsupportedError';
  }
}

/**
 * A negentropy message from the relay exceeded `relay.max_payload_bytes` (relays without a frame size
 * limit answer a large set in one message). A network error, so the pass is retried; the caller
 * marks the relay for REQ pagination first.
 */
export class NegentropyFrameTooLargeError extends RelayNetworkError {
  constructor(relayUrl: string, detail: string) {
    super(relayUrl, `negentropy message larger than relay.max_payload_bytes (${detail})`);
    this.name = 'NegentropyFrameTooLargeError';
  }
}

export interface ReconcileWindowOptions {
  since: number;
  until: number;
  /** Our ids from this relay in [since, until], at most `limit` of them (more means: split). */
  localItems(since: number, until: number, limit: number): Promise<NegentropyItem[]>;
  maxLocalRecords: number;
  frameSizeLimit: number;
  timeoutMs: number;
  /** Ids asked per REQ (the relay may cap it; a smaller batch is then used). */
  fetchBatch: number;
  /** Bound on negentropy sessions plus REQs for the window; reaching it is reported. */
  maxRequests: number;
  /** Pacing, rate-limit and AUTH handling shared with the relay's other requests. */
  guard?: RequestGuard;
  signal?: AbortSignal;
}

export interface ReconcileReport {
  sessions: number;
  /** Windows split because they were too large for one session. */
  splits: number;
  /** Ids the relay has and the archive lacked (for this relay). */
  need: number;
  /** Ids the archive had from this relay that the relay no longer serves (deleted, expired or lost). */
  gone: number;
  requests: number;
  delivered: number;
  /** Needed ids the relay did not serve when asked by id. */
  missing: number;
  /** Events served that were not asked for (other ids, or outside the window). */
  outOfFilter: number;
  complete: boolean;
  incompleteReason?: string;
}

export type OnReconciledEvents = (events: NostrEvent[]) => Promise<void>;

/** Ids are re-asked in a smaller batch at most this many times when the relay caps a batch. */
const MAX_ID_RETRIES = 2;

export async function reconcileWindow(connection: RelayConnection, fetchIds: FetchIds, options: ReconcileWindowOptions, onEvents: OnReconciledEvents): Promise<ReconcileReport> {
  const report: ReconcileReport = { sessions: 0, splits: 0, need: 0, gone: 0, requests: 0, delivered: 0, missing: 0, outOfFilter: 0, complete: true };
  const budgetLeft = () => {
    if (report.sessions + report.requests < options.maxRequests) return true;
    report.complete = false;
    report.incompleteReason ??= `request bound reached (${options.maxRequests} negentropy sessions and REQs)`;
    return false;
  };
  const splitOrGiveUp = (stack: [number, number][], since: number, until: number, why: string) => {
    if (since < until) {
      const middle = Math.floor(since / 2 + until / 2);
      stack.push([since, middle], [middle + 1, until]);
      report.splits += 1;
      return;
    }
    report.complete = false;
    report.incompleteReason ??= `second ${since} cannot be reconciled: ${why}`;
  };

  // Newest windows first, like pagination: pop takes the last pushed.
  const stack: [number, number][] = [[options.since, options.until]];
  while (stack.length > 0 && budgetLeft()) {
    const [since, until] = stack.pop() as [number, number];
    const local = await options.localItems(since, until, options.maxLocalRecords + 1);
    if (local.length > options.maxLocalRecords) {
      splitOrGiveUp(stack, since, until, `more than ${options.maxLocalRecords} archived events in one second`);
      continue;
    }
    const session = () => runSession(connection, since, until, local, options, report);
    const outcome = options.guard ? await options.guard.run(session) : await session();
    if (outcome === 'too-large') {
      splitOrGiveUp(stack, since, until, 'the relay refuses it as too large');
      continue;
    }
    const { need, gone } = outcome;
    report.need += need.length;
    report.gone += gone;
    await fetchNeeded(need, since, until);
  }
  return report;

  async function fetchNeeded(need: string[], since: number, until: number): Promise<void> {
    const retries = new Map<string, number>();
    let batchSize = options.fetchBatch;
    let queue = need;
    while (queue.length > 0) {
      const retry: string[] = [];
      for (let position = 0; position < queue.length; ) {
        if (!budgetLeft()) return;
        const batch = queue.slice(position, position + batchSize);
        position += batch.length;
        report.requests += 1;
        const page = await fetchIds(batch);
        const wanted = new Set(batch);
        const served: NostrEvent[] = [];
        for (const event of page.events) {
          if (wanted.delete(event.id) && event.created_at >= since && event.created_at <= until) served.push(event);
          else report.outOfFilter += 1;
        }
        report.delivered += served.length;
        if (served.length > 0) await onEvents(served);
        // Fewer events than asked: either the relay caps `limit` (ask the rest again in batches of
        // what it returned) or it no longer has them.
        const capped = page.received > 0 && page.received < batch.length;
        if (capped) batchSize = Math.min(batchSize, page.received);
        for (const id of wanted) {
          const tries = retries.get(id) ?? 0;
          if (capped && tries < MAX_ID_RETRIES) {
            retries.set(id, tries + 1);
            retry.push(id);
          } else report.missing += 1;
        }
      }
      queue = retry;
    }
  }
}

/**
 * One negentropy session over [since, until]. A NEG-ERR `blocked:` (too many records for the relay)
 * asks the caller to split the window; any other NEG-ERR is a refusal (`auth-required:`,
 * `rate-limited:`, …) for the request guard.
 */
async function runSession(connection: RelayConnection, since: number, until: number, local: NegentropyItem[], options: ReconcileWindowOptions, report: ReconcileReport): Promise<{ need: string[]; gone: number } | 'too-large'> {
  const reconciler = new Negentropy(NegentropyStorage.fromItems(local), { frameSizeLimit: options.frameSizeLimit });
  const need: string[] = [];
  let gone = 0;
  report.sessions += 1;
  const end = await connection.negentropy(
    { since, until },
    reconciler.initiate(),
    (reply) => {
      const round = reconciler.reconcile(reply);
      for (const id of round.need) need.push(id);
      gone += round.have.length;
      return round.next;
    },
    { timeoutMs: options.timeoutMs, ...(options.signal ? { signal: options.signal } : {}) },
  );
  switch (end.reason) {
    case 'done':
      return { need, gone };
    case 'unsupported':
      throw new NegentropyUnsupportedError(connection.url, `NOTICE "${end.message.slice(0, 200)}" in answer to NEG-OPEN`);
    case 'timeout':
      if (end.firstReply && report.sessions === 1) throw new NegentropyUnsupportedError(connection.url, `no answer to NEG-OPEN within ${options.timeoutMs} ms`);
      throw new RelayNetworkError(connection.url, `negentropy reply not received within ${options.timeoutMs} ms`);
    case 'error': {
      const prefix = messagePrefix(end.message);
      // strfry: "blocked: too many query results"; a ban is also `blocked:` but is not a size problem.
      if (prefix === 'blocked' && /too (many|large|big)|limit|exceed/i.test(end.message)) return 'too-large';
      throw new RelayRefusedError(connection.url, prefix, end.message);
    }
    case 'disconnected':
      if (/max payload/i.test(end.message)) throw new NegentropyFrameTooLargeError(connection.url, end.message);
      throw new RelayNetworkError(connection.url, `connection lost during negentropy: ${end.message}`);
    case 'aborted':
      throw new RelayNetworkError(connection.url, 'negentropy aborted');
  }
}
