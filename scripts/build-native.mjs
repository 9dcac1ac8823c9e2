// Builds the optional native BIP-340 verifier (native/) against the system libsecp256k1.
// Run by `npm install`; never fails the install: without the system library, bigbrotr uses the
// libsecp256k1 bundled with the optional dependency bcrypto (built by npm install with a C compiler),
// and without either the WASM verifier (tiny-secp256k1); it says which at start-up.
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
  console.log('bigbrotr: node-gyp not found; the system-libsecp256k1 verifier is not built (bcrypto or WASM will be used)');
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
  console.log(`bigbrotr: system-libsecp256k1 verifier not built (${reason.trim().slice(0, 120)}); bcrypto's bundled libsecp256k1 is used instead (\`bigbrotr config check\` says which verifier runs).`);
}
process.exit(0);
