/** Lowercase hex checks and conversions for ids, keys and signatures. */
const LOWER_HEX_64 = /^[0-9a-f]{64}$/;
const LOWER_HEX_128 = /^[0-9a-f]{128}$/;

/** 64 lowercase hex characters: an event id or an x-only public key. Uppercase is not canonical and is refused. */
export function isHex64(value: unknown): value is string {
  return typeof value === 'string' && LOWER_HEX_64.test(value);
}

/** 128 lowercase hex characters: a BIP-340 signature. */
export function isHex128(value: unknown): value is string {
  return typeof value === 'string' && LOWER_HEX_128.test(value);
}

export const isEventId = isHex64;
export const isPubkey = isHex64;

export function hexToBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
