/**
 * The filter limits of one relay as we currently believe them: the `limit` asked per page, the
 * longest `kinds` / `authors` / `ids` lists and the most filters per REQ it accepts, whether it
 * answers filters without a narrowing field, and what is known of its NIP-45 COUNT. Starts from
 * configuration, the relay's NIP-11 `limitation` and what was learned on earlier passes (stored in
 * `relay_limits`); shrinks at once when a refusal says a request was too large, and records each
 * change so the caller can store it. Every service that sends REQs builds its filters within these.
 */
import type { FilterField, Refusal } from './errors.js';

export type CountStatus = 'agrees' | 'disagrees' | 'unanswered';

export interface FilterLimitValues {
  /** The `limit` asked per page. */
  pageLimit: number;
  maxKinds: number;
  maxAuthors: number;
  maxIds: number;
  /** Filters sent in one REQ. */
  maxFilters: number;
  /** Bytes of one REQ message (strfry drops the connection over 128 KiB without a word). */
  maxRequestBytes: number;
  /** The relay refuses filters that have no kinds/authors/ids (only since/until/limit). */
  requiresKinds: boolean;
  /** NIP-11 `limitation.max_limit`, when the relay states one (it may be wrong). */
  statedMaxLimit?: number;
  /** The largest page the relay ever answered with EOSE. */
  largestPage: number;
  /** Whether the relay's COUNT matched a scope proven by REQ; undefined: not tested. */
  count?: CountStatus;
}

export interface LearnedLimit {
  field: FilterField | 'requires_kinds';
  value: number | boolean;
  /** The relay's words that taught it. */
  message: string;
}

/** The shape of a request, for deciding which list to shrink. */
export interface FilterShape {
  limit: number;
  kinds?: readonly unknown[];
  authors?: readonly unknown[];
  ids?: readonly unknown[];
}

const LIST_FIELDS = ['kinds', 'authors', 'ids'] as const;
type ListField = (typeof LIST_FIELDS)[number];
const MAX_OF: Record<ListField, 'maxKinds' | 'maxAuthors' | 'maxIds'> = { kinds: 'maxKinds', authors: 'maxAuthors', ids: 'maxIds' };

/** The starting sizes when nothing is known of a relay (the `sync.*_per_filter` defaults). */
export const DEFAULT_FILTER_LIMITS: FilterLimitValues = {
  pageLimit: 500,
  maxKinds: 4_096,
  maxAuthors: 500,
  maxIds: 500,
  maxFilters: 100,
  maxRequestBytes: 65_536,
  requiresKinds: false,
  largestPage: 0,
};

export class RelayFilterLimits {
  readonly values: FilterLimitValues;
  /** Changes since the last `takeLearned()`, for storing. */
  private learned: LearnedLimit[] = [];
  private countChanged = false;
  private largestPageChanged = false;

  constructor(values: Partial<FilterLimitValues> = {}) {
    this.values = { ...DEFAULT_FILTER_LIMITS, ...values };
  }

  /** The cap a page of `asked` events is measured against: a page this large may have been cut. */
  capFor(asked: number): number {
    return Math.min(asked, this.values.statedMaxLimit ?? Number.POSITIVE_INFINITY);
  }

  notePage(received: number): void {
    if (received > this.values.largestPage) {
      this.values.largestPage = received;
      this.largestPageChanged = true;
    }
  }

  setCount(status: CountStatus): void {
    if (this.values.count === status) return;
    this.values.count = status;
    this.countChanged = true;
  }

  /**
   * Shrinks whatever the refusal of `filters` points at. Returns false when nothing can shrink (the
   * refusal is not about size, or every list is already down to one value and one filter).
   */
  learnFromRefusal(refusal: Refusal, message: string, filters: readonly FilterShape[]): boolean {
    if (refusal.kind === 'needs-narrower') {
      if (this.values.requiresKinds) return false;
      this.values.requiresKinds = true;
      this.learned.push({ field: 'requires_kinds', value: true, message });
      return true;
    }
    if (refusal.kind !== 'too-large') return false;
    const field = refusal.field ?? this.largestField(filters);
    if (field === undefined) return false;
    if (field === 'filters') {
      if (filters.length <= 1) return this.shrinkLargestList(filters, message);
      return this.set('filters', 'maxFilters', filters.length, refusal.max, message);
    }
    if (field === 'limit') {
      const asked = Math.max(...filters.map((filter) => filter.limit));
      return this.set('limit', 'pageLimit', asked, refusal.max, message);
    }
    const longest = Math.max(0, ...filters.map((filter) => filter[field]?.length ?? 0));
    // The relay named a list this request does not make long: shrink what it does hold instead.
    if (longest <= 1) return this.shrinkLargestList(filters, message);
    return this.set(field, MAX_OF[field], longest, refusal.max, message);
  }

  /**
   * The limits learned since the last call, each field once: a list halved several times in one pass
   * (a refusal naming no number) keeps its last, smallest value. Storing one field twice in one
   * UPDATE is an error ("multiple assignments to same column").
   */
  takeLearned(): { limits: LearnedLimit[]; count?: CountStatus; largestPage?: number } {
    const latest = new Map<LearnedLimit['field'], LearnedLimit>();
    for (const change of this.learned) latest.set(change.field, change);
    const taken = {
      limits: [...latest.values()],
      ...(this.countChanged && this.values.count ? { count: this.values.count } : {}),
      ...(this.largestPageChanged ? { largestPage: this.values.largestPage } : {}),
    };
    this.learned = [];
    this.countChanged = false;
    this.largestPageChanged = false;
    return taken;
  }

  private largestField(filters: readonly FilterShape[]): ListField | 'filters' | undefined {
    let best: ListField | undefined;
    let bestLength = 1;
    for (const field of LIST_FIELDS) {
      for (const filter of filters) {
        const length = filter[field]?.length ?? 0;
        if (length > bestLength) {
          best = field;
          bestLength = length;
        }
      }
    }
    if (best) return best;
    return filters.length > 1 ? 'filters' : undefined;
  }

  private shrinkLargestList(filters: readonly FilterShape[], message: string): boolean {
    const field = this.largestField(filters);
    if (field === undefined) return false;
    if (field === 'filters') return this.set('filters', 'maxFilters', filters.length, undefined, message);
    const longest = Math.max(...filters.map((filter) => filter[field]?.length ?? 0));
    return this.set(field, MAX_OF[field], longest, undefined, message);
  }

  /** The new maximum: the relay's number when it is below what was sent, else half of what was sent. */
  private set(
    field: FilterField,
    key: 'pageLimit' | 'maxKinds' | 'maxAuthors' | 'maxIds' | 'maxFilters',
    sent: number,
    named: number | undefined,
    message: string,
  ): boolean {
    const next = named !== undefined && named >= 1 && named < sent ? named : Math.floor(sent / 2);
    if (next < 1 || next >= sent) return false;
    this.values[key] = Math.min(this.values[key], next);
    this.learned.push({ field, value: this.values[key], message: message.slice(0, 300) });
    return true;
  }
}
