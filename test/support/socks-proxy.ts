/**
 * A real SOCKS5 proxy for tests: Debian's `microsocks` on 127.0.0.1 and a free port, with
 * username/password authentication (installed by .ci/run).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { freePort } from './free-port.js';
import { setTimeout as sleep } from 'node:timers/promises';

export interface SocksProxy {
  url: string;
  port: number;
  stop(): Promise<void>;
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

export async function startSocksProxy(credentials: { user: string; password: string }): Promise<SocksProxy> {
  const port = await freePort();
  const child: ChildProcess = spawn('microsocks', ['-i', '127.0.0.1', '-p', String(port), '-u', credentials.user, '-P', credentials.password], { stdio: 'ignore' });
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
    url: `socks5h://${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}`,
    port,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
