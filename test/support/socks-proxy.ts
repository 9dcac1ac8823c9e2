/**
 * Real SOCKS5 proxies for tests, with username/password authentication, on 127.0.0.1 and a free
 * port: Debian's `microsocks` (installed by .ci/run), and the npm package @pondwader/socks5-server,
 * which any machine with `npm install` has. Tests run against every implementation available; in CI
 * (`CI=true`) microsocks must be there, elsewhere its absence is said in one line.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer } from '@pondwader/socks5-server';
import { freePort } from './free-port.js';

export interface SocksProxy {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export type SocksImplementation = 'microsocks' | 'npm';

const microsocksInstalled = spawnSync('sh', ['-c', 'command -v microsocks'], { stdio: 'ignore' }).status === 0;

/** The proxies to test with here; says once why microsocks is left out. */
export function socksImplementations(): SocksImplementation[] {
  if (microsocksInstalled || process.env.CI) return ['npm', 'microsocks'];
  console.log('SOCKS5 tests run with the npm proxy only: microsocks is not installed (apt-get install microsocks; .ci/run installs it)');
  return ['npm'];
}

async function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function proxyUrl(credentials: { user: string; password: string }, port: number): string {
  return `socks5h://${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}`;
}

async function startNpmProxy(credentials: { user: string; password: string }): Promise<SocksProxy> {
  const server = createServer({ auth: { username: credentials.user, password: credentials.password } });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return {
    url: proxyUrl(credentials, port),
    port,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function startMicrosocks(credentials: { user: string; password: string }): Promise<SocksProxy> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    'microsocks',
    ['-i', '127.0.0.1', '-p', String(port), '-u', credentials.user, '-P', credentials.password],
    { stdio: 'ignore' },
  );
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error) => reject(new Error(`cannot start microsocks (apt-get install microsocks): ${error.message}`)));
  });
  const deadline = Date.now() + 5_000;
  for (;;) {
    const ready = await Promise.race([accepting(port), failed]);
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`microsocks did not listen on 127.0.0.1:${port}`);
    await sleep(50);
  }
  return {
    url: proxyUrl(credentials, port),
    port,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export function startSocksProxy(credentials: { user: string; password: string }, implementation: SocksImplementation): Promise<SocksProxy> {
  return implementation === 'microsocks' ? startMicrosocks(credentials) : startNpmProxy(credentials);
}
