/**
 * Wire encoding of Negentropy protocol V1 (NIP-77 appendix): varints, delta-encoded bounds, range modes
 * and the 16-byte fingerprint. Messages are bytes here; hex lives at the API edge.
 */
import { createHash } from 'node:crypto';

export const PROTOCOL_VERSION = 0x61;
export const ID_SIZE = 32;
export const FINGERPRINT_SIZE = 16;

export const Mode = { Skip: 0, Fingerprint: 1, IdList: 2 } as const;
export type Mode = (typeof Mode)[keyof typeof Mode];

/** Malformed or unexpected negentropy input; the message says what is wrong. */
export class NegentropyError extends Error {
  override name = 'NegentropyError';
}

/**
 * A position in (timestamp, id) order. `timestamp` is `Infinity` for the reserved u64 max value; `prefix`
 * holds 0..32 leading id bytes, the omitted rest being implicit zero bytes.
 */
export interface Bound {
  timestamp: number;
  prefix: Uint8Array;
}

const NO_PREFIX = new Uint8Array(0);
export const INFINITE_BOUND: Bound = { timestamp: Infinity, prefix: NO_PREFIX };

export function boundAt(timestamp: number, prefix: Uint8Array = NO_PREFIX): Bound {
  return { timestamp, prefix };
}

/** Compares two bounds as the padded 32-byte ids they stand for. */
export function compareBounds(a: Bound, b: Bound): number {
  if (a.timestamp !== b.timestamp) return a.timestamp < b.timestamp ? -1 : 1;
  const length = Math.max(a.prefix.length, b.prefix.length);
  for (let index = 0; index < length; index += 1) {
    const difference = (a.prefix[index] ?? 0) - (b.prefix[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

export function encodeVarint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new NegentropyError(`cannot encode ${value} as a varint`);
  const digits: number[] = [];
  // Division, not bit shifts: values may exceed 32 bits.
  do {
    digits.push(value % 128);
    value = Math.floor(value / 128);
  } while (value > 0);
  digits.reverse();
  for (let index = 0; index < digits.length - 1; index += 1) digits[index] = (digits[index] as number) | 0x80;
  return Uint8Array.from(digits);
}

const LARGEST_BEFORE_SHIFT = Math.floor(Number.MAX_SAFE_INTEGER / 128);

/** Sequential reader over one message; every read checks the remaining length first. */
export class MessageReader {
  private offset = 0;
  private lastTimestamp = 0;

  constructor(private readonly bytes: Uint8Array) {}

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  get position(): number {
    return this.offset;
  }

  readByte(): number {
    if (this.remaining < 1) throw new NegentropyError(`message truncated at byte ${this.offset}: expected 1 more byte`);
    return this.bytes[this.offset++] as number;
  }

  readBytes(length: number, what: string): Uint8Array {
    if (this.remaining < length)
      throw new NegentropyError(`message truncated in ${what} at byte ${this.offset}: expected ${length} bytes, ${this.remaining} left`);
    const slice = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return slice;
  }

  /** Non-minimal encodings (leading 0x80 digits) are accepted, as the reference decoders do. */
  readVarint(what: string): number {
    const start = this.offset;
    let value = 0;
    for (;;) {
      if (this.remaining < 1) throw new NegentropyError(`truncated varint (${what}) at byte ${start}`);
      const byte = this.bytes[this.offset++] as number;
      if (value > LARGEST_BEFORE_SHIFT) throw new NegentropyError(`varint (${what}) at byte ${start} exceeds 2^53`);
      value = value * 128 + (byte & 0x7f);
      if ((byte & 0x80) === 0) return value;
    }
  }

  /**
   * Timestamps are deltas from the previous bound of the same message; 0 means infinity. Like the
   * reference implementations, everything after an infinite bound stays infinite.
   */
  readBound(): Bound {
    const encoded = this.readVarint('bound timestamp');
    let timestamp: number;
    if (encoded === 0 || this.lastTimestamp === Infinity) timestamp = Infinity;
    else {
      timestamp = this.lastTimestamp + encoded - 1;
      if (timestamp > Number.MAX_SAFE_INTEGER) throw new NegentropyError(`bound timestamp ${timestamp} exceeds 2^53`);
    }
    this.lastTimestamp = timestamp;
    const length = this.readVarint('bound id prefix length');
    if (length > ID_SIZE) throw new NegentropyError(`bound id prefix of ${length} bytes is longer than ${ID_SIZE}`);
    return { timestamp, prefix: this.readBytes(length, 'bound id prefix') };
  }
}

/** Growable output buffer that delta-encodes bound timestamps; `mark`/`rewind` undo a partial range. */
export class MessageWriter {
  private bytes = new Uint8Array(256);
  private used = 0;
  private lastTimestamp = 0;

  get length(): number {
    return this.used;
  }

  private reserve(extra: number): void {
    if (this.used + extra <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.used + extra));
    grown.set(this.bytes.subarray(0, this.used));
    this.bytes = grown;
  }

  writeByte(value: number): void {
    this.reserve(1);
    this.bytes[this.used++] = value;
  }

  writeBytes(data: Uint8Array): void {
    this.reserve(data.length);
    this.bytes.set(data, this.used);
    this.used += data.length;
  }

  writeVarint(value: number): void {
    if (value < 0x80) this.writeByte(value);
    else this.writeBytes(encodeVarint(value));
  }

  writeBound(bound: Bound): void {
    if (bound.timestamp === Infinity) {
      this.lastTimestamp = Infinity;
      this.writeVarint(0);
    } else {
      this.writeVarint(bound.timestamp - this.lastTimestamp + 1);
      this.lastTimestamp = bound.timestamp;
    }
    this.writeVarint(bound.prefix.length);
    this.writeBytes(bound.prefix);
  }

  mark(): { used: number; lastTimestamp: number } {
    return { used: this.used, lastTimestamp: this.lastTimestamp };
  }

  rewind(mark: { used: number; lastTimestamp: number }): void {
    this.used = mark.used;
    this.lastTimestamp = mark.lastTimestamp;
  }

  toBytes(): Uint8Array {
    return this.bytes.slice(0, this.used);
  }
}

/** sum || varint(count), reused: a fingerprint is computed per range, often millions of times. */
const fingerprintInput = new Uint8Array(ID_SIZE + 8);

/** First 16 bytes of sha256(sum || varint(count)), `sum` being the 32-byte little-endian id sum mod 2^256. */
export function fingerprintOf(sum: Uint8Array, count: number): Uint8Array {
  fingerprintInput.set(sum);
  let length = ID_SIZE;
  if (count < 0x80) fingerprintInput[length++] = count;
  else for (const digit of encodeVarint(count)) fingerprintInput[length++] = digit;
  // One update of one buffer: measurably faster than two updates or crypto.hash().
  const digest = createHash('sha256').update(fingerprintInput.subarray(0, length)).digest();
  return new Uint8Array(digest.buffer, digest.byteOffset, FINGERPRINT_SIZE);
}

export function messageFromHex(hex: string): Uint8Array {
  // Hex decoding stops at the first invalid pair, so a short result means the string was not hex.
  const bytes = typeof hex === 'string' && hex.length % 2 === 0 ? Buffer.from(hex, 'hex') : undefined;
  if (bytes === undefined || bytes.length * 2 !== hex.length) throw new NegentropyError('message is not an even-length hex string');
  return bytes;
}

export function messageToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
