// Builds the native BIP-340 verifier (native/): our N-API addon with libsecp256k1 0.7.1 compiled in
// from native/vendor/secp256k1, so a C compiler is all it needs (no system library).
// Run by `npm install`; never fails the install: without a compiler bigbrotr uses the WASM verifier
// (tiny-secp256k1, about five times slower) and says so at start-up.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');

if (process.env.BIGBROTR_SKIP_NATIVE === '1') {
  console.log('bigbrotr: BIGBROTR_SKIP_NATIVE=1, not building the native verifier (WASM fallback)');
  process.exit(0);
}

const candidates = [
  process.env.npm_config_node_gyp,
  join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
].filter((path) => path && existsSync(path));

if (candidates.length === 0) {
  console.log('bigbrotr: node-gyp not found; the native verifier is not built (the WASM verifier will be used)');
  process.exit(0);
}

// Use the headers that ship with this Node when present, so the build needs no download.
const nodePrefix = join(dirname(process.execPath), '..');
const args = [candidates[0], 'rebuild', '--release'];
if (!process.env.npm_config_nodedir && existsSync(join(nodePrefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${nodePrefix}`);

const result = spawnSync(process.execPath, args, {
  cwd: nativeDir,
  stdio: ['ignore', 'pipe', 'pipe'],
  encoding: 'utf8',
  env: process.env,
});
if (result.status === 0 && existsSync(join(nativeDir, 'build', 'Release', 'bigbrotr_secp256k1.node'))) {
  console.log('bigbrotr: native libsecp256k1 verifier built');
} else {
  const reason = `${result.stderr ?? ''}`.split('\n').find((line) => /error/i.test(line)) ?? `exit ${result.status}`;
  console.log(
    `bigbrotr: native verifier not built (${reason.trim().slice(0, 120)}); the WASM verifier is used, about five times slower (install a C compiler and run \`node scripts/build-native.mjs\`; \`bigbrotr config check\` says which verifier runs).`,
  );
}
process.exit(0);
