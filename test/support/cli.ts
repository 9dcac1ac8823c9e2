/** Spawns the real CLI in a child process, as a user would run it. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/package-root.js';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const SOURCE_ENTRY = join(packageRoot(), 'test', 'support', 'cli-entry.ts');
const COMPILED_ENTRY = join(packageRoot(), 'bin', 'bigbrotr.js');

/** Newest modification time (ms) of the files under `dir` whose names end with `suffix`. */
function newestMtime(dir: string, suffix: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(suffix)) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/**
 * How the CLI is started: the compiled one (bin/bigbrotr.js, what users run) when dist/ was built
 * after the last change to src/ (`npm ci` builds it, so in CI), else from the sources through tsx,
 * which costs a child about 2 s more CPU to start (about 100 CLI children per suite).
 * BIGBROTR_TEST_CLI=source or =compiled forces one.
 */
function cliCommand(): string[] {
  const forced = process.env.BIGBROTR_TEST_CLI;
  if (forced === 'source') return ['--import', 'tsx', SOURCE_ENTRY];
  if (forced === 'compiled') return [COMPILED_ENTRY];
  const compiled = join(packageRoot(), 'dist', 'cli', 'main.js');
  const current = existsSync(compiled) && statSync(compiled).mtimeMs >= newestMtime(join(packageRoot(), 'src'), '.ts');
  return current ? [COMPILED_ENTRY] : ['--import', 'tsx', SOURCE_ENTRY];
}

let command: string[] | undefined;

/** The environment a CLI test runs in: no BIGBROTR_* from the outer shell unless passed explicitly. */
function cleanEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('BIGBROTR_') && value !== undefined) base[name] = value;
  }
  base.BIGBROTR_LOG__FORMAT = 'json';
  // Returning freed C memory every second makes a CLI started under tsx re-fault the pages it frees
  // and allocates again: sync-cli.test.ts took 105 s with it, 90 s without (2026-12-03). Nothing a CLI
  // test checks depends on it; test/cli/embedded-memory.test.ts tests it, docs/benchmarks.md measures it.
  base.BIGBROTR_DATABASE__EMBEDDED_RELEASE_MEMORY_MS = '0';
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete base[name];
    else base[name] = value;
  }
  return base;
}

export function spawnCli(args: string[], env: Record<string, string | undefined> = {}): ChildProcessWithoutNullStreams {
  command ??= cliCommand();
  return spawn(process.execPath, [...command, ...args], { env: cleanEnv(env), cwd: packageRoot() });
}

export function runCli(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args, env);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bigbrotr ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Resolves with everything printed so far once `pattern` appears on stdout or stderr. */
export function waitForOutput(child: ChildProcessWithoutNullStreams, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (pattern.test(seen)) {
        cleanup();
        resolve(seen);
      }
    };
    const onClose = (code: number | null) => {
      cleanup();
      reject(new Error(`process exited (${code}) before printing ${pattern}\n${seen}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no ${pattern} within ${timeoutMs} ms\n${seen}`));
    }, timeoutMs);
    function cleanup() {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.stderr.off('data', onData);
      child.off('close', onClose);
    }
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', onClose);
  });
}
