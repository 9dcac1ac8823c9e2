/**
 * The sorted (created_at, id) records one side reconciles. Ids live in one contiguous byte array: about
 * 42 bytes per record (id, timestamp, running-sum checkpoints) and no per-record objects.
 */
import { boundAt, fingerprintOf, ID_SIZE, NegentropyError, type Bound } from './negentropy-codec.js';

export interface NegentropyItem {
  createdAt: number;
  /** 64 hex characters (lowercase in Nostr; case does not matter here). */
  id: string;
}

const LIMBS = ID_SIZE / 4;
/**
 * Every CHECKPOINT-th running id sum is kept, so a range fingerprint costs two lookups and at most
 * 2 × CHECKPOINT additions instead of one addition per record; the price is 2 bytes per record.
 */
const CHECKPOINT = 16;
const IS_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** acc += limbs[offset .. offset+8) mod 2^256; Uint32Array stores keep the low 32 bits. */
function addLimbs(acc: Uint32Array, limbs: Uint32Array, offset: number): void {
  let carry = 0;
  for (let index = 0; index < LIMBS; index += 1) {
    const sum = (acc[index] as number) + (limbs[offset + index] as number) + carry;
    acc[index] = sum;
    carry = sum > 0xffffffff ? 1 : 0;
  }
}

/** target = a - b mod 2^256. */
function subtractLimbs(target: Uint32Array, a: Uint32Array, b: Uint32Array): void {
  let borrow = 0;
  for (let index = 0; index < LIMBS; index += 1) {
    const difference = (a[index] as number) - (b[index] as number) - borrow;
    target[index] = difference;
    borrow = difference < 0 ? 1 : 0;
  }
}

function limbsToBytes(limbs: Uint32Array, bytes: Uint8Array): Uint8Array {
  for (let index = 0; index < LIMBS; index += 1) {
    const limb = limbs[index] as number;
    bytes[index * 4] = limb;
    bytes[index * 4 + 1] = limb >>> 8;
    bytes[index * 4 + 2] = limb >>> 16;
    bytes[index * 4 + 3] = limb >>> 24;
  }
  return bytes;
}

/** The input, decoded in input order: what sorting and validation work on. */
interface DecodedItems {
  timestamps: Float64Array;
  ids: Buffer;
  /** First 4 id bytes as a big-endian number: settles almost every id comparison without touching `ids`. */
  heads: Uint32Array;
}

/** Hex digit values by UTF-16 code unit, -1 for everything else. */
const HEX_DIGITS = (() => {
  const table = new Int8Array(65536).fill(-1);
  for (let digit = 0; digit < 16; digit += 1) {
    table[digit.toString(16).charCodeAt(0)] = digit;
    table[digit.toString(16).toUpperCase().charCodeAt(0)] = digit;
  }
  return table;
})();

/** Decodes 64 hex characters into `target` at `offset`; false if `hex` is not exactly that. */
function decodeId(hex: unknown, target: Uint8Array, offset: number): boolean {
  // A JS loop beats Buffer#write here: a native call per id costs more than the decoding itself.
  if (typeof hex !== 'string' || hex.length !== ID_SIZE * 2) return false;
  for (let byte = 0; byte < ID_SIZE; byte += 1) {
    const high = HEX_DIGITS[hex.charCodeAt(byte * 2)] as number;
    const low = HEX_DIGITS[hex.charCodeAt(byte * 2 + 1)] as number;
    if ((high | low) < 0) return false;
    target[offset + byte] = (high << 4) | low;
  }
  return true;
}

function decodeItems(items: readonly NegentropyItem[]): DecodedItems {
  const timestamps = new Float64Array(items.length);
  const ids = Buffer.alloc(items.length * ID_SIZE);
  const heads = new Uint32Array(items.length);
  for (let index = 0; index < items.length; index += 1) {
    const item = items[index];
    const createdAt = item?.createdAt;
    if (!Number.isSafeInteger(createdAt) || (createdAt as number) < 0)
      throw new NegentropyError(`item ${index}: createdAt must be a non-negative safe integer, got ${String(createdAt)}`);
    timestamps[index] = createdAt as number;
    const base = index * ID_SIZE;
    if (!decodeId(item?.id, ids, base)) throw new NegentropyError(`item ${index}: id must be 64 hex characters`);
    heads[index] =
      (((ids[base] as number) << 24) | ((ids[base + 1] as number) << 16) | ((ids[base + 2] as number) << 8) | (ids[base + 3] as number)) >>>
      0;
  }
  return { timestamps, ids, heads };
}

function compareDecoded({ timestamps, ids, heads }: DecodedItems, a: number, b: number): number {
  return (
    (timestamps[a] as number) - (timestamps[b] as number) ||
    (heads[a] as number) - (heads[b] as number) ||
    ids.compare(ids, b * ID_SIZE, (b + 1) * ID_SIZE, a * ID_SIZE, (a + 1) * ID_SIZE)
  );
}

/**
 * Input indices in (createdAt, id) order, or null when the input is already ordered (e.g. from an index
 * scan) and can be used as it is. When (created_at - min) and the index fit together in a
 * float64 mantissa, one comparator-free numeric sort orders by timestamp (several times faster than a
 * comparator sort of a million items); only runs sharing a timestamp are then ordered by id.
 */
function sortedOrder(decoded: DecodedItems): Uint32Array | null {
  const { timestamps } = decoded;
  const count = timestamps.length;
  const order = new Uint32Array(count);
  let ordered = true;
  let min = Infinity;
  let max = -Infinity;
  for (let index = 0; index < count; index += 1) {
    order[index] = index;
    if (ordered && index > 0 && compareDecoded(decoded, index - 1, index) > 0) ordered = false;
    const timestamp = timestamps[index] as number;
    if (timestamp < min) min = timestamp;
    if (timestamp > max) max = timestamp;
  }
  if (ordered) return null;
  let scale = 1;
  while (scale < count) scale *= 2;
  if ((max - min + 1) * scale > Number.MAX_SAFE_INTEGER) return order.sort((a, b) => compareDecoded(decoded, a, b));

  const keys = new Float64Array(count);
  for (let index = 0; index < count; index += 1) keys[index] = ((timestamps[index] as number) - min) * scale + index;
  keys.sort();
  for (let rank = 0; rank < count; rank += 1) order[rank] = (keys[rank] as number) % scale;
  let runStart = 0;
  for (let rank = 1; rank <= count; rank += 1) {
    if (rank < count && timestamps[order[rank] as number] === timestamps[order[runStart] as number]) continue;
    if (rank - runStart > 1) sortRun(decoded, order, runStart, rank);
    runStart = rank;
  }
  return order;
}

/** Orders order[begin, end) by id: insertion sort for the usual short runs, a library sort for long ones. */
function sortRun(decoded: DecodedItems, order: Uint32Array, begin: number, end: number): void {
  if (end - begin > 16) {
    order.subarray(begin, end).sort((a, b) => compareDecoded(decoded, a, b));
    return;
  }
  for (let next = begin + 1; next < end; next += 1) {
    const moving = order[next] as number;
    let slot = next;
    while (slot > begin && compareDecoded(decoded, order[slot - 1] as number, moving) > 0) {
      order[slot] = order[slot - 1] as number;
      slot -= 1;
    }
    order[slot] = moving;
  }
}

export class NegentropyStorage {
  readonly size: number;
  private readonly timestamps: Float64Array;
  private readonly ids: Buffer;
  private readonly limbs: Uint32Array;
  private readonly checkpoints: Uint32Array;
  private readonly scratch = {
    sum: new Uint32Array(LIMBS),
    upper: new Uint32Array(LIMBS),
    lower: new Uint32Array(LIMBS),
    bytes: new Uint8Array(ID_SIZE),
  };

  private constructor(items: readonly NegentropyItem[]) {
    const decoded = decodeItems(items);
    const order = sortedOrder(decoded);
    this.size = items.length;
    if (order === null) {
      this.timestamps = decoded.timestamps;
      this.ids = decoded.ids;
    } else {
      this.timestamps = new Float64Array(this.size);
      this.ids = Buffer.alloc(this.size * ID_SIZE);
      // Word copies move the same bytes on any host and avoid a call per id; both buffers start at offset 0.
      const from = new Uint32Array(decoded.ids.buffer, decoded.ids.byteOffset, this.size * LIMBS);
      const to = new Uint32Array(this.ids.buffer, this.ids.byteOffset, this.size * LIMBS);
      for (let rank = 0; rank < this.size; rank += 1) {
        const source = order[rank] as number;
        this.timestamps[rank] = decoded.timestamps[source] as number;
        for (let limb = 0; limb < LIMBS; limb += 1) to[rank * LIMBS + limb] = from[source * LIMBS + limb] as number;
      }
    }
    for (let rank = 1; rank < this.size; rank += 1) {
      const previous = order === null ? rank - 1 : (order[rank - 1] as number);
      const current = order === null ? rank : (order[rank] as number);
      if (compareDecoded(decoded, previous, current) === 0)
        throw new NegentropyError(`duplicate item ${this.idHexAt(rank)} at created_at ${this.timestamps[rank]}`);
    }
    this.limbs = this.readLimbs();
    this.checkpoints = this.runningSums();
  }

  static fromItems(items: readonly NegentropyItem[]): NegentropyStorage {
    return new NegentropyStorage(items);
  }

  /** Little-endian 32-bit limbs of every id; on little-endian hosts a view of the same bytes. */
  private readLimbs(): Uint32Array {
    const count = this.size * LIMBS;
    // Buffer.alloc never uses the shared pool, so the offset is 0; the check keeps the view safe regardless.
    if (IS_LITTLE_ENDIAN && this.ids.byteOffset % 4 === 0) return new Uint32Array(this.ids.buffer, this.ids.byteOffset, count);
    const limbs = new Uint32Array(count);
    for (let index = 0; index < count; index += 1) limbs[index] = this.ids.readUInt32LE(index * 4);
    return limbs;
  }

  private runningSums(): Uint32Array {
    const checkpoints = new Uint32Array((Math.floor(this.size / CHECKPOINT) + 1) * LIMBS);
    const acc = new Uint32Array(LIMBS);
    for (let index = 0; index < this.size; index += 1) {
      addLimbs(acc, this.limbs, index * LIMBS);
      if ((index + 1) % CHECKPOINT === 0) checkpoints.set(acc, ((index + 1) / CHECKPOINT) * LIMBS);
    }
    return checkpoints;
  }

  timestampAt(index: number): number {
    return this.timestamps[index] as number;
  }

  idHexAt(index: number): string {
    return this.ids.toString('hex', index * ID_SIZE, (index + 1) * ID_SIZE);
  }

  /** The concatenated ids of records [begin, end), a view into the storage. */
  idBytes(begin: number, end: number): Uint8Array {
    return this.ids.subarray(begin * ID_SIZE, end * ID_SIZE);
  }

  /** First index in [begin, end) whose record is not below `bound` (end if none). */
  lowerBound(begin: number, end: number, bound: Bound): number {
    let low = begin;
    let high = end;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.isBelow(middle, bound)) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  private isBelow(index: number, bound: Bound): boolean {
    const timestamp = this.timestamps[index] as number;
    if (timestamp !== bound.timestamp) return timestamp < bound.timestamp;
    // The bound's omitted id bytes are zeros, which no id byte is below: equal prefixes mean "not below".
    const base = index * ID_SIZE;
    const prefix = bound.prefix;
    for (let offset = 0; offset < prefix.length; offset += 1) {
      const difference = (this.ids[base + offset] as number) - (prefix[offset] as number);
      if (difference !== 0) return difference < 0;
    }
    return false;
  }

  /** The shortest bound that separates record `index - 1` from record `index`. */
  boundBefore(index: number): Bound {
    const timestamp = this.timestamps[index] as number;
    if (this.timestamps[index - 1] !== timestamp) return boundAt(timestamp);
    const base = index * ID_SIZE;
    let shared = 0;
    while (shared < ID_SIZE && this.ids[base + shared] === this.ids[base - ID_SIZE + shared]) shared += 1;
    return boundAt(timestamp, this.ids.subarray(base, base + Math.min(shared + 1, ID_SIZE)));
  }

  /** A bound equal to record `index` itself (full id). */
  boundAtRecord(index: number): Bound {
    return boundAt(this.timestamps[index] as number, this.idBytes(index, index + 1));
  }

  private sumBefore(index: number, acc: Uint32Array): void {
    const checkpoint = Math.floor(index / CHECKPOINT);
    acc.set(this.checkpoints.subarray(checkpoint * LIMBS, (checkpoint + 1) * LIMBS));
    for (let record = checkpoint * CHECKPOINT; record < index; record += 1) addLimbs(acc, this.limbs, record * LIMBS);
  }

  /** Fingerprint of records [begin, end). */
  fingerprint(begin: number, end: number): Uint8Array {
    const { sum, upper, lower, bytes } = this.scratch;
    if (end - begin <= 2 * CHECKPOINT) {
      sum.fill(0);
      for (let record = begin; record < end; record += 1) addLimbs(sum, this.limbs, record * LIMBS);
    } else {
      this.sumBefore(end, upper);
      this.sumBefore(begin, lower);
      subtractLimbs(sum, upper, lower);
    }
    return fingerprintOf(limbsToBytes(sum, bytes), end - begin);
  }
}
