/**
 * A real PgBouncer (the distribution's binary) in transaction pooling mode in front of the test
 * PostgreSQL server: its ini and auth file in a temp dir, listening on 127.0.0.1 on a free port, trust
 * authentication (the server behind it trusts local connections too). PgBouncer refuses to run as root,
 * so as root it is started with `-u postgres`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { freePort } from './free-port.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CANDIDATES = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer', '/usr/local/sbin/pgbouncer'];

/** Path of the pgbouncer binary, or undefined when it is not installed. */
export function findPgbouncer(): string | undefined {
  const onPath = (process.env.PATH ?? '')
    .split(':')
    .filter(Boolean)
    .map((dir) => join(dir, 'pgbouncer'));
  for (const candidate of [...onPath, ...CANDIDATES]) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return undefined;
}

export interface PgbouncerOptions {
  /** The PostgreSQL server PgBouncer forwards to (host, port and user of this URL). */
  upstream: string;
  /** `ignore_startup_parameters`; empty: PgBouncer refuses e.g. `statement_timeout` as a start-up parameter. */
  ignoreStartupParameters?: string[];
  /** `default_pool_size`: server connections per (database, user). Small, so connections are shared. */
  poolSize?: number;
}

export interface Pgbouncer {
  port: number;
  /** `url` with its host and port replaced by PgBouncer's. */
  via(url: string): string;
  /** What PgBouncer printed (its log). */
  log(): string;
  stop(): Promise<void>;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startPgbouncer(options: PgbouncerOptions): Promise<Pgbouncer> {
  const binary = findPgbouncer();
  if (!binary) throw new Error('pgbouncer is not installed (apt-get install pgbouncer)');
  const upstream = new URL(options.upstream);
  const user = decodeURIComponent(upstream.username || 'postgres');
  const dir = mkdtempSync(join(tmpdir(), 'bigbrotr-pgbouncer-'));
  // Readable by the unprivileged user pgbouncer switches to.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const authFile = join(dir, 'userlist.txt');
  writeFileSync(authFile, `"${user}" ""\n`, { mode: 0o644 });
  const ini = join(dir, 'pgbouncer.ini');
  writeFileSync(
    ini,
    [
      '[databases]',
      `* = host=${upstream.hostname} port=${upstream.port || '5432'}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${authFile}`,
      'pool_mode = transaction',
      `default_pool_size = ${options.poolSize ?? 4}`,
      'max_client_conn = 500',
      `ignore_startup_parameters = ${(options.ignoreStartupParameters ?? []).join(',')}`,
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  const args = process.getuid?.() === 0 ? ['-u', 'postgres', ini] : [ini];
  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(port))) {
    if (exited || Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`pgbouncer did not start on port ${port}:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    port,
    via: (url) => {
      const target = new URL(url);
      target.hostname = '127.0.0.1';
      target.port = String(port);
      return target.toString();
    },
    log: () => output,
    stop: async () => {
      if (!exited) {
        child.kill('SIGTERM');
        await exit;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
