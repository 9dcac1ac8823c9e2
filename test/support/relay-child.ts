/** Starts test/support/relay-process.ts in a child process and waits for its URL. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/package-root.js';

export interface RelayChild {
  url: string;
  events: number;
  stop(): Promise<void>;
}

export function startRelayChild(spec: unknown, timeoutMs = 60_000): Promise<RelayChild> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', join(packageRoot(), 'test', 'support', 'relay-process.ts'), JSON.stringify(spec)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`relay child not ready within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code) => reject(new Error(`relay child exited (${code}) before READY`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /READY (\S+) (\d+)/.exec(seen);
      if (!match) return;
      clearTimeout(timer);
      resolve({
        url: match[1] as string,
        events: Number(match[2]),
        stop: () =>
          new Promise((done) => {
            child.once('exit', () => done());
            child.stdin?.end();
            setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
          }),
      });
    });
  });
}
