/**
 * The test relay's event store: events sorted newest first (ties: lowest id first), as NIP-01 orders
 * query results, with an id index. Queries find their since/until window by binary search.
 */
import type { NostrEvent } from '../nostr/event.js';
import { matchesFilter, type Filter } from './filter.js';
import type { SameSecondOrder } from './options.js';

export type AddOutcome = 'stored' | 'duplicate' | 'replaced-newer-exists' | 'ephemeral';

function isReplaceable(kind: number): boolean {
  return kind === 0 || kind === 3 || (kind >= 10_000 && kind < 20_000);
}
function isAddressable(kind: number): boolean {
  return kind >= 30_000 && kind < 40_000;
}
export function isEphemeral(kind: number): boolean {
  return kind >= 20_000 && kind < 30_000;
}

/** Sort order: created_at descending, then id ascending. */
function before(a: NostrEvent, b: NostrEvent): boolean {
  return a.created_at > b.created_at || (a.created_at === b.created_at && a.id < b.id);
}

export class EventStore {
  private sorted: NostrEvent[] = [];
  private readonly byId = new Map<string, NostrEvent>();
  private readonly byAddress = new Map<string, NostrEvent>();
  /** Insertion order, for relays that order one second's events by when they were stored. */
  private readonly sequence = new Map<string, number>();
  private nextSequence = 0;

  constructor(private readonly keepAllVersions: boolean) {}

  get size(): number {
    return this.sorted.length;
  }

  all(): readonly NostrEvent[] {
    return this.sorted;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  clear(): void {
    this.sorted = [];
    this.byId.clear();
    this.byAddress.clear();
  }

  private address(event: NostrEvent): string | undefined {
    if (this.keepAllVersions) return undefined;
    if (isReplaceable(event.kind)) return `${event.kind}:${event.pubkey}`;
    if (isAddressable(event.kind)) return `${event.kind}:${event.pubkey}:${event.tags.find((tag) => tag[0] === 'd')?.[1] ?? ''}`;
    return undefined;
  }

  /** First index whose event sorts at or after `event` (binary search). */
  private insertionIndex(event: NostrEvent): number {
    let low = 0;
    let high = this.sorted.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (before(this.sorted[middle] as NostrEvent, event)) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  private remove(event: NostrEvent): void {
    const index = this.insertionIndex(event);
    if (this.sorted[index]?.id === event.id) this.sorted.splice(index, 1);
    this.byId.delete(event.id);
  }

  /** NIP-09: removes the events among `ids` that `author` wrote; returns how many. */
  deleteOwn(ids: string[], author: string): number {
    let removed = 0;
    for (const id of ids) {
      const event = this.byId.get(id);
      if (event && event.pubkey === author) {
        this.remove(event);
        removed += 1;
      }
    }
    return removed;
  }

  add(event: NostrEvent): AddOutcome {
    if (isEphemeral(event.kind)) return 'ephemeral';
    if (this.byId.has(event.id)) return 'duplicate';
    const address = this.address(event);
    if (address) {
      const current = this.byAddress.get(address);
      if (current) {
        if (!before(event, current)) return 'replaced-newer-exists';
        this.remove(current);
      }
      this.byAddress.set(address, event);
    }
    this.sorted.splice(this.insertionIndex(event), 0, event);
    this.byId.set(event.id, event);
    this.sequence.set(event.id, this.nextSequence++);
    return 'stored';
  }

  /** Bulk load: faster than add() for many events (one sort). Replaceable rules still apply. */
  addMany(events: NostrEvent[]): number {
    if (events.length < 1000) return events.filter((event) => this.add(event) === 'stored').length;
    const replaced = new Set<NostrEvent>();
    let stored = 0;
    for (const event of events) {
      if (isEphemeral(event.kind) || this.byId.has(event.id)) continue;
      const address = this.address(event);
      if (address) {
        const current = this.byAddress.get(address);
        if (current) {
          if (!before(event, current)) continue;
          replaced.add(current);
          this.byId.delete(current.id);
        }
        this.byAddress.set(address, event);
      }
      this.byId.set(event.id, event);
      this.sequence.set(event.id, this.nextSequence++);
      this.sorted.push(event);
      stored += 1;
    }
    if (replaced.size > 0) this.sorted = this.sorted.filter((event) => !replaced.has(event));
    this.sorted.sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
    return stored;
  }

  /** Index of the first event with created_at <= until. */
  private startIndex(until: number | undefined): number {
    if (until === undefined) return 0;
    let low = 0;
    let high = this.sorted.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.sorted[middle] as NostrEvent).created_at > until) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /**
   * Like `query`, but events of one second come in `order` (as real relays differ), and the limit
   * cuts after that ordering: the whole last second is gathered before it is ordered and cut.
   */
  queryOrdered(filter: Filter, limit: number, order: SameSecondOrder, options: { ignoreTime?: boolean } = {}): NostrEvent[] {
    if (order === 'id-asc') return this.query(filter, limit, options);
    const gathered = this.query(filter, Number.MAX_SAFE_INTEGER, { ...options, stopAfter: limit });
    const rank = (event: NostrEvent): number | string => {
      if (order === 'newest-stored-first') return -(this.sequence.get(event.id) ?? 0);
      if (order === 'unspecified') return `${event.id.slice(32)}${event.id.slice(0, 32)}`;
      return '';
    };
    gathered.sort((a, b) => {
      if (a.created_at !== b.created_at) return b.created_at - a.created_at;
      if (order === 'id-desc') return a.id < b.id ? 1 : -1;
      const ra = rank(a);
      const rb = rank(b);
      return ra < rb ? -1 : ra > rb ? 1 : 0;
    });
    return gathered.slice(0, limit);
  }

  /** Stored events matching the filter, in NIP-01 order, at most `limit`. */
  query(filter: Filter, limit: number, options: { ignoreTime?: boolean; stopAfter?: number } = {}): NostrEvent[] {
    if (filter.ids) {
      return filter.ids
        .map((id) => this.byId.get(id))
        .filter((event): event is NostrEvent => event !== undefined && matchesFilter(event, filter, options))
        .sort((a, b) => (before(a, b) ? -1 : 1))
        .slice(0, limit);
    }
    const results: NostrEvent[] = [];
    const start = options.ignoreTime ? 0 : this.startIndex(filter.until);
    for (let index = start; index < this.sorted.length && results.length < limit; index += 1) {
      const event = this.sorted[index] as NostrEvent;
      if (!options.ignoreTime && filter.since !== undefined && event.created_at < filter.since) break;
      // `stopAfter`: enough events, and the second of the last one is complete.
      if (
        options.stopAfter !== undefined &&
        results.length >= options.stopAfter &&
        event.created_at !== (results[results.length - 1] as NostrEvent).created_at
      )
        break;
      if (matchesFilter(event, filter, options)) results.push(event);
    }
    return results;
  }
}
