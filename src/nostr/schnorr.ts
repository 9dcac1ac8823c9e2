/**
 * BIP-340 Schnorr verification behind one interface, three back ends, fastest first:
 *   - `native`: our N-API addon over the system libsecp256k1 (native/, built at npm install when
 *     libsecp256k1-dev is installed);
 *   - `bcrypto`: the libsecp256k1 that the bcrypto package bundles and builds with node-gyp during
 *     `npm install` (an optional dependency: no system library needed, only a C compiler);
 *   - `wasm`: tiny-secp256k1, always available, several times slower.
 * `loadVerifier()` picks the first that loads; `BIGBROTR_VERIFIER=native|bcrypto|wasm` forces one.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tinySecp from 'tiny-secp256k1';
import { packageRoot } from '../package-root.js';

export type VerifierName = 'native' | 'bcrypto' | 'wasm';

export interface SchnorrVerifier {
  readonly name: VerifierName;
  verify(sig64: Uint8Array, msg32: Uint8Array, pubkey32: Uint8Array): boolean;
  /** `count` entries from concatenated buffers; 1 = valid. */
  verifyBatch(sigs: Uint8Array, msgs: Uint8Array, pubkeys: Uint8Array, count: number): Uint8Array;
}

interface NativeAddon {
  verify(sig: Uint8Array, msg: Uint8Array, pub: Uint8Array): boolean;
  verifyBatch(sigs: Uint8Array, msgs: Uint8Array, pubs: Uint8Array, count: number): Uint8Array;
}

export function nativeAddonPath(): string {
  return join(packageRoot(), 'native', 'build', 'Release', 'bigbrotr_secp256k1.node');
}

let nativeCache: SchnorrVerifier | null | undefined;

/** The native verifier, or undefined (with the reason) when the addon is not built or does not load. */
export function loadNativeVerifier(): { verifier?: SchnorrVerifier; reason?: string } {
  if (nativeCache !== undefined) return nativeCache ? { verifier: nativeCache } : { reason: 'native verifier failed to load earlier' };
  const path = nativeAddonPath();
  if (!existsSync(path)) {
    nativeCache = null;
    return { reason: `native addon not built (${path} missing)` };
  }
  try {
    const addon = createRequire(import.meta.url)(path) as NativeAddon;
    nativeCache = { name: 'native', verify: addon.verify, verifyBatch: addon.verifyBatch };
    return { verifier: nativeCache };
  } catch (error) {
    nativeCache = null;
    return { reason: `native addon failed to load: ${(error as Error).message}` };
  }
}

export const wasmVerifier: SchnorrVerifier = {
  name: 'wasm',
  verify(sig64, msg32, pubkey32) {
    try {
      return tinySecp.verifySchnorr(msg32, pubkey32, sig64);
    } catch {
      return false; // tiny-secp256k1 throws on a public key that is not on the curve
    }
  },
  verifyBatch(sigs, msgs, pubkeys, count) {
    const results = new Uint8Array(count);
    for (let index = 0; index < count; index += 1) {
      results[index] = wasmVerifier.verify(sigs.subarray(index * 64, index * 64 + 64), msgs.subarray(index * 32, index * 32 + 32), pubkeys.subarray(index * 32, index * 32 + 32)) ? 1 : 0;
    }
    return results;
  },
};

interface BcryptoSchnorr {
  native: number;
  verify(msg: Uint8Array, sig: Uint8Array, key: Uint8Array): boolean;
}

let bcryptoCache: SchnorrVerifier | null | undefined;
let bcryptoReason: string | undefined;

/** The verifier over bcrypto's bundled libsecp256k1, or undefined (with the reason) when its native build is missing. */
export function loadBcryptoVerifier(): { verifier?: SchnorrVerifier; reason?: string } {
  if (bcryptoCache !== undefined) return bcryptoCache ? { verifier: bcryptoCache } : { reason: bcryptoReason ?? 'bcrypto failed to load earlier' };
  try {
    const require = createRequire(import.meta.url);
    // Without its native build bcrypto falls back to pure JavaScript, slower than WASM: not wanted.
    require('bcrypto/lib/native/binding');
    const schnorr = require('bcrypto/lib/schnorr') as BcryptoSchnorr;
    if (schnorr.native !== 2) throw new Error('bcrypto has no native build (pure JavaScript fallback)');
    const verify = (sig64: Uint8Array, msg32: Uint8Array, pubkey32: Uint8Array): boolean => {
      if (sig64.length !== 64 || msg32.length !== 32 || pubkey32.length !== 32) return false;
      try {
        return schnorr.verify(toBuffer(msg32), toBuffer(sig64), toBuffer(pubkey32));
      } catch {
        return false; // a public key that is not on the curve
      }
    };
    bcryptoCache = {
      name: 'bcrypto',
      verify,
      verifyBatch(sigs, msgs, pubkeys, count) {
        const results = new Uint8Array(count);
        for (let index = 0; index < count; index += 1) results[index] = verify(sigs.subarray(index * 64, index * 64 + 64), msgs.subarray(index * 32, index * 32 + 32), pubkeys.subarray(index * 32, index * 32 + 32)) ? 1 : 0;
        return results;
      },
    };
    return { verifier: bcryptoCache };
  } catch (error) {
    bcryptoCache = null;
    bcryptoReason = `bcrypto native build not available: ${(error as Error).message.split('\n')[0]}`;
    return { reason: bcryptoReason };
  }
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export type VerifierChoice = 'auto' | VerifierName;

/** The fastest available verifier, or the one asked for (`native` or `bcrypto` throw when they cannot load). */
export function loadVerifier(choice: VerifierChoice = (process.env.BIGBROTR_VERIFIER as VerifierChoice | undefined) ?? 'auto'): SchnorrVerifier {
  if (choice === 'wasm') return wasmVerifier;
  if (choice === 'native' || choice === 'auto') {
    const native = loadNativeVerifier();
    if (native.verifier) return native.verifier;
    if (choice === 'native') throw new Error(`BIGBROTR_VERIFIER=native: ${native.reason}`);
  }
  const bcrypto = loadBcryptoVerifier();
  if (bcrypto.verifier) return bcrypto.verifier;
  if (choice === 'bcrypto') throw new Error(`BIGBROTR_VERIFIER=bcrypto: ${bcrypto.reason}`);
  return wasmVerifier;
}

/** Which verifier runs, in words, with why the faster ones do not (for config check, stats, logs). */
export function describeVerifier(choice?: VerifierChoice): { name: VerifierName; description: string; unavailable: string[] } {
  const verifier = loadVerifier(choice);
  const unavailable: string[] = [];
  if (verifier.name !== 'native') {
    const reason = loadNativeVerifier().reason;
    if (reason) unavailable.push(`native: ${reason}`);
  }
  if (verifier.name === 'wasm') {
    const reason = loadBcryptoVerifier().reason;
    if (reason) unavailable.push(`bcrypto: ${reason}`);
  }
  const descriptions: Record<VerifierName, string> = {
    native: 'native: the system libsecp256k1 through our addon (fastest)',
    bcrypto: 'bcrypto: the libsecp256k1 bundled with bcrypto, built by npm install',
    wasm: 'wasm: tiny-secp256k1 in WebAssembly (several times slower; a C compiler at npm install gives bcrypto)',
  };
  return { name: verifier.name, description: descriptions[verifier.name], unavailable };
}
