/**
 * TLS to PostgreSQL with certificate checks, against the local server (PostgreSQL only, as root: the
 * server's key file must belong to the postgres user). A private CA signs a server certificate for
 * `localhost` only; the server is pointed at it (ALTER SYSTEM, reload) and restored at the end.
 * Clients without TLS keep working meanwhile: `ssl = on` only offers TLS.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseConfig } from '../../src/config/schema.js';
import { databaseSchema } from '../../src/config/schema.js';
import { DatabaseError } from '../../src/db/errors.js';
import { openDatabase } from '../../src/db/open.js';
import { serverUrl } from '../support/database.js';

function postgresIds(): { uid: number; gid: number } | undefined {
  try {
    const [uid, gid] = ['-u', '-g'].map((flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim()));
    return uid !== undefined && gid !== undefined && Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

const serverHost = serverUrl ? new URL(serverUrl).hostname : '';
const owner = postgresIds();
const enabled =
  serverUrl !== undefined && ['127.0.0.1', 'localhost'].includes(serverHost) && process.getuid?.() === 0 && owner !== undefined;
if (serverUrl !== undefined && !enabled) {
  console.warn(
    'test/db/pg-tls.test.ts: SKIPPED, needs a local PostgreSQL server, root and a postgres user (the server key file must be owned by postgres)',
  );
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

async function superuser<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl, ssl: false });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

let dir: string;
let base: DatabaseConfig;

function urlWithHost(host: string): string {
  const url = new URL(serverUrl as string);
  url.hostname = host;
  url.searchParams.delete('sslmode');
  return url.toString();
}

describe.runIf(enabled)('TLS to PostgreSQL with verify-full', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bigbrotr-pg-tls-'));
    chmodSync(dir, 0o755);
    openssl(
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'ca.key',
        '-out',
        'ca.pem',
        '-days',
        '2',
        '-subj',
        '/CN=bigbrotr test PostgreSQL CA',
      ],
      dir,
    );
    openssl(
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'other-ca.key',
        '-out',
        'other-ca.pem',
        '-days',
        '2',
        '-subj',
        '/CN=some other CA',
      ],
      dir,
    );
    // localhost only: connecting to 127.0.0.1 is a name mismatch under verify-full.
    writeFileSync(
      join(dir, 'san.ext'),
      'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n',
    );
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], dir);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        'server.csr',
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        'server.pem',
        '-days',
        '2',
        '-extfile',
        'san.ext',
      ],
      dir,
    );
    chmodSync(join(dir, 'server.pem'), 0o644);
    chownSync(join(dir, 'server.key'), owner?.uid as number, owner?.gid as number);
    chmodSync(join(dir, 'server.key'), 0o600);
    await superuser(async (client) => {
      await client.query(`ALTER SYSTEM SET ssl_cert_file = '${join(dir, 'server.pem')}'`);
      await client.query(`ALTER SYSTEM SET ssl_key_file = '${join(dir, 'server.key')}'`);
      await client.query('ALTER SYSTEM SET ssl = on');
      await client.query('SELECT pg_reload_conf()');
    });
    // New backends read the reloaded configuration; wait until one reports TLS on.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ssl = await superuser((client) => client.query<{ ssl: string }>('SHOW ssl'));
      if (ssl.rows[0]?.ssl === 'on') break;
      if (Date.now() > deadline) throw new Error('the server did not turn ssl on (see its log: key file permissions?)');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    base = {
      ...databaseSchema.parse({}),
      url: urlWithHost('localhost'),
      ssl_mode: 'verify-full',
      ssl_ca_file: join(dir, 'ca.pem'),
      connect_timeout_ms: 5_000,
      pool_size: 1,
    };
  });

  afterAll(async () => {
    await superuser(async (client) => {
      await client.query('ALTER SYSTEM RESET ssl');
      await client.query('ALTER SYSTEM RESET ssl_cert_file');
      await client.query('ALTER SYSTEM RESET ssl_key_file');
      await client.query('SELECT pg_reload_conf()');
    });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('connects to localhost with the CA file, over TLS', async () => {
    const db = await openDatabase(base);
    try {
      const { rows } = await db.query<{ ssl: boolean; version: string }>(
        'SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
      );
      expect(rows[0]?.ssl).toBe(true);
      expect(rows[0]?.version).toMatch(/^TLSv1\.[23]$/);
    } finally {
      await db.close();
    }
  });

  it('verify-ca checks the CA but not the name: 127.0.0.1 connects', async () => {
    const db = await openDatabase({ ...base, url: urlWithHost('127.0.0.1'), ssl_mode: 'verify-ca' });
    try {
      expect((await db.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).rows[0]?.ssl).toBe(true);
    } finally {
      await db.close();
    }
  });

  it('fails clearly with a different CA', async () => {
    const error = await openDatabase({ ...base, ssl_ca_file: join(dir, 'other-ca.pem') }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as Error).message).toContain('cannot connect to PostgreSQL');
    expect((error as Error).message).toMatch(/certificate/i);
    expect((error as Error).message).toContain(`database.ssl_ca_file must be the CA that signed it (now ${join(dir, 'other-ca.pem')})`);
  });

  it('fails under verify-full when the host name is not in the certificate (127.0.0.1)', async () => {
    const error = await openDatabase({ ...base, url: urlWithHost('127.0.0.1') }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as Error).message).toContain('cannot connect to PostgreSQL');
    expect((error as Error).message).toMatch(/127\.0\.0\.1.*(altnames|certificate)/i);
    expect((error as Error).message).toContain("the host in database.url must be a name (or address) in the server's certificate");
  });

  it('clients without TLS keep working meanwhile', async () => {
    const db = await openDatabase({ ...base, ssl_mode: 'disable', ssl_ca_file: undefined });
    try {
      expect((await db.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).rows[0]?.ssl).toBe(false);
    } finally {
      await db.close();
    }
  });
});
