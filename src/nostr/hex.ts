/** Lowercase hex checks and conversions for ids, keys and signatures. */

// 1 for the UTF-16 code units 0-9 and a-f. A table lookup per character is about twice as fast as
// /^[0-9a-f]{64}$/ (three such checks per event received).
const LOWER_HEX = new Uint8Array(128);
for (const digit of '0123456789abcdef') LOWER_HEX[digit.charCodeAt(0)] = 1;

function isLowerHex(value: string, length: number): boolean {
  if (value.length !== length) return false;
  for (let index = 0; index < length; index += 1) {
    const code = value.charCodeAt(index);
    if (code >= 128 || LOWER_HEX[code] === 0) return false;
  }
  return true;
}

/** 64 lowercase hex characters: an event id or an x-only public key. Uppercase is not canonical and is refused. */
export function isHex64(value: unknown): value is string {
  return typeof value === 'string' && isLowerHex(value, 64);
}

/** 128 lowercase hex characters: a BIP-340 signature. */
export function isHex128(value: unknown): value is string {
  return typeof value === 'string' && isLowerHex(value, 128);
}

export const isEventId = isHex64;
export const isPubkey = isHex64;

export function hexToBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
