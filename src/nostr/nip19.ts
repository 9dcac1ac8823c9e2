/**
 * NIP-19 bech32 identifiers as users paste them: `npub`, `note`, and the TLV forms `nprofile` and
 * `nevent` (their type-0 entry is the key or id). Decoding only; no I/O. Secret keys (`nsec`) are
 * refused on purpose: nobody should paste one into an archive's search box.
 */
const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
/** TLV forms can be long; bound the input anyway. */
const MAX_LENGTH = 1_000;

export type Nip19Kind = 'npub' | 'note' | 'nprofile' | 'nevent';

function polymod(values: number[]): number {
  let checksum = 1;
  for (const value of values) {
    const top = checksum >>> 25;
    checksum = ((checksum & 0x1ffffff) << 5) ^ value;
    for (let bit = 0; bit < 5; bit += 1) if ((top >>> bit) & 1) checksum ^= GENERATOR[bit] as number;
  }
  return checksum;
}

function expandPrefix(prefix: string): number[] {
  return [...[...prefix].map((char) => char.charCodeAt(0) >>> 5), 0, ...[...prefix].map((char) => char.charCodeAt(0) & 31)];
}

/** bech32 (BIP-173) → prefix and 8-bit data, or undefined when malformed or the checksum fails. */
function bech32Decode(input: string): { prefix: string; bytes: Uint8Array } | undefined {
  if (input.length > MAX_LENGTH || input !== input.toLowerCase()) return undefined;
  const separator = input.lastIndexOf('1');
  if (separator < 1 || separator + 7 > input.length) return undefined;
  const prefix = input.slice(0, separator);
  const words: number[] = [];
  for (const char of input.slice(separator + 1)) {
    const value = CHARSET.indexOf(char);
    if (value < 0) return undefined;
    words.push(value);
  }
  if (polymod([...expandPrefix(prefix), ...words]) !== 1) return undefined;
  // 5-bit groups to bytes, without the 6 checksum words; leftover bits must be zero padding.
  const bytes: number[] = [];
  let accumulator = 0;
  let bits = 0;
  for (const word of words.slice(0, -6)) {
    accumulator = (accumulator << 5) | word;
    bits += 5;
    while (bits >= 8) {
      bits -= 8;
      bytes.push((accumulator >>> bits) & 0xff);
    }
  }
  if (bits >= 5 || (accumulator & ((1 << bits) - 1)) !== 0) return undefined;
  return { prefix, bytes: Uint8Array.from(bytes) };
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** The 32-byte key or id a NIP-19 identifier names, as hex, with its kind; undefined when it is not one. */
export function decodeNip19(input: string): { kind: Nip19Kind; hex: string } | undefined {
  const decoded = bech32Decode(input.trim());
  if (!decoded) return undefined;
  const { prefix, bytes } = decoded;
  if (prefix === 'npub' || prefix === 'note') return bytes.length === 32 ? { kind: prefix, hex: hex(bytes) } : undefined;
  if (prefix !== 'nprofile' && prefix !== 'nevent') return undefined;
  for (let offset = 0; offset + 2 <= bytes.length;) {
    const type = bytes[offset] as number;
    const length = bytes[offset + 1] as number;
    const value = bytes.subarray(offset + 2, offset + 2 + length);
    if (value.length !== length) return undefined;
    if (type === 0) return length === 32 ? { kind: prefix, hex: hex(value) } : undefined;
    offset += 2 + length;
  }
  return undefined;
}

/** 64 lowercase hex characters as they are, or the hex a NIP-19 identifier of one of `kinds` names; undefined otherwise. */
export function hexOrNip19(value: string, kinds: readonly Nip19Kind[]): string | undefined {
  if (/^[0-9a-f]{64}$/.test(value)) return value;
  const decoded = decodeNip19(value);
  return decoded && kinds.includes(decoded.kind) ? decoded.hex : undefined;
}
