/**
 * BIP-340 Schnorr verification behind one interface, two back ends, fastest first:
 *   - `native`: our N-API addon with libsecp256k1 (v0.7.1, vendored in native/vendor/secp256k1)
 *     compiled in, built by node-gyp at `npm install`: only a C compiler needed, no system library;
 *   - `wasm`: tiny-secp256k1, always available, about five times slower.
 * `loadVerifier()` picks the first that loads; `BIGBROTR_VERIFIER=native|wasm` forces one.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tinySecp from 'tiny-secp256k1';
import { packageRoot } from '../package-root.js';
import { errorMessage } from '../error-message.js';

export type VerifierName = 'native' | 'wasm';

export interface SchnorrVerifier {
  readonly name: VerifierName;
  verify(sig64: Uint8Array, msg32: Uint8Array, pubkey32: Uint8Array): boolean;
  /** `count` entries from concatenated buffers; 1 = valid. */
  verifyBatch(sigs: Uint8Array, msgs: Uint8Array, pubkeys: Uint8Array, count: number): Uint8Array;
}

export interface NativeAddon {
  verify(sig: Uint8Array, msg: Uint8Array, pub: Uint8Array): boolean;
  verifyBatch(sigs: Uint8Array, msgs: Uint8Array, pubs: Uint8Array, count: number): Uint8Array;
  /** Returns memory the C allocator holds free to the system (glibc); false where unsupported. Absent in addons built before it. */
  releaseFreedMemory?(): boolean;
}

export function nativeAddonPath(): string {
  return join(packageRoot(), 'native', 'build', 'Release', 'bigbrotr_secp256k1.node');
}

let nativeCache: SchnorrVerifier | null | undefined;
let addonCache: NativeAddon | undefined;

/** The native addon itself (also used for memory housekeeping), or undefined when it is not built or does not load. */
export function loadNativeAddon(): NativeAddon | undefined {
  return loadNativeVerifier().verifier ? addonCache : undefined;
}

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
    addonCache = addon;
    nativeCache = { name: 'native', verify: addon.verify, verifyBatch: addon.verifyBatch };
    return { verifier: nativeCache };
  } catch (error) {
    nativeCache = null;
    return { reason: `native addon failed to load: ${errorMessage(error)}` };
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
      results[index] = wasmVerifier.verify(
        sigs.subarray(index * 64, index * 64 + 64),
        msgs.subarray(index * 32, index * 32 + 32),
        pubkeys.subarray(index * 32, index * 32 + 32),
      )
        ? 1
        : 0;
    }
    return results;
  },
};

export type VerifierChoice = 'auto' | VerifierName;

/** The fastest available verifier, or the one asked for (`native` throws when it cannot load). */
export function loadVerifier(
  choice: VerifierChoice = (process.env.BIGBROTR_VERIFIER as VerifierChoice | undefined) ?? 'auto',
): SchnorrVerifier {
  if (choice === 'wasm') return wasmVerifier;
  if (choice === 'native' || choice === 'auto') {
    const native = loadNativeVerifier();
    if (native.verifier) return native.verifier;
    if (choice === 'native') throw new Error(`BIGBROTR_VERIFIER=native: ${native.reason}`);
  }
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
  const descriptions: Record<VerifierName, string> = {
    native: 'native: libsecp256k1 0.7.1 in our addon, built by npm install (fastest)',
    wasm: 'wasm: tiny-secp256k1 in WebAssembly (about five times slower; a C compiler at npm install gives the native verifier)',
  };
  return { name: verifier.name, description: descriptions[verifier.name], unavailable };
}
