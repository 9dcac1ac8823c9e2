import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { databaseSchema } from '../../src/config/schema.js';
import { openDatabase } from '../../src/db/open.js';
import { checkDatabasePassword, databaseTarget, isLocalHost, passwordWeakness } from '../../src/db/password-policy.js';
import { runCli } from '../support/cli.js';

const strong = () => randomBytes(24).toString('base64url');
const remote = (password: string, user = 'archiver', host = 'db.example.com') =>
  `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:5432/bigbrotr`;

function refusal(url: string, env: NodeJS.ProcessEnv = {}): ConfigError | undefined {
  try {
    checkDatabasePassword(url, env);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
}

describe('database password policy', () => {
  it('knows which hosts are on this machine', () => {
    for (const host of [
      '127.0.0.1',
      '127.10.20.30',
      'localhost',
      'LOCALHOST',
      '[::1]',
      '::1',
      '/var/run/postgresql',
      '',
      '::ffff:127.0.0.1',
    ])
      expect(isLocalHost(host), host).toBe(true);
    for (const host of [
      'db.example.com',
      '10.0.0.5',
      '192.168.1.2',
      '128.0.0.1',
      '0.0.0.0',
      '[2001:db8::1]',
      'localhost.example.com',
      '::2',
    ])
      expect(isLocalHost(host), host).toBe(false);
  });

  it('accepts any password (or none) on loopback and unix sockets', () => {
    for (const url of [
      'postgres://postgres@127.0.0.1:5432/x',
      'postgres://postgres:postgres@localhost/x',
      'postgres://u:changeme@[::1]:5432/x',
      'postgres://u:admin@127.8.0.1/x',
      'postgres://u:pw@db.example.com/x?host=/var/run/postgresql',
      'postgres://u:pw@%2Fvar%2Frun%2Fpostgresql/x',
      'socket://u:pw@/var/run/postgresql?db=x',
      'postgres:///x',
    ]) {
      expect(refusal(url), url).toBeUndefined();
    }
  });

  it('refuses missing, short, default and user-name passwords for a remote server', () => {
    const cases: [string, string][] = [
      ['', 'no password'],
      ['Xk3#pQ9z', 'shorter than 16'],
      ['postgres', 'shorter than 16'],
      ['123456', 'shorter than 16'],
      ['archiver_database_service', 'user name'],
      ['passwordpassword', 'repetition'],
      ['aaaaaaaaaaaaaaaaaaaa', 'different characters'],
      ['1234567890123456', 'repetition or a keyboard sequence'],
      ['qwertyuiopasdfghjk', 'repetition or a keyboard sequence'],
      ['changeme12345678', 'well-known word'],
      ['Postgres!2024-2025', 'well-known word'],
      ['admin_secret_admin!', 'well-known word'],
      ['archiver_database_service1234', 'well-known word or the user name'],
    ];
    for (const [password, reason] of cases) {
      const user = password.startsWith('archiver_database_service') ? 'archiver_database_service' : 'archiver';
      expect(passwordWeakness(password || undefined, user), password).toContain(reason);
      const error = refusal(remote(password, user));
      expect(error, password).toBeDefined();
      expect(error?.problems[0]?.path).toBe('database.url');
      expect(error?.message).toContain('database.url');
      expect(error?.message).toContain('db.example.com');
      if (password) expect(error?.message).not.toContain(password);
    }
    for (const weak of ['postgres', 'password', 'changeme', 'admin', 'secret', '123456'])
      expect(passwordWeakness(weak.padEnd(16, weak))).toBeDefined();
  });

  it('accepts a random password of 16+ characters for remote hosts, IPs and IPv6 alike', () => {
    for (const host of ['db.example.com', '10.0.0.5:6432', '[2001:db8::1]:5432'])
      expect(refusal(remote(strong(), 'archiver', host)), host).toBeUndefined();
    expect(refusal(remote('correct-horse-battery-staple'))).toBeUndefined();
  });

  it('also reads the password and user from the URL query and from PGPASSWORD / PGUSER', () => {
    expect(databaseTarget('postgres://db.example.com/x?user=me&password=abc')).toMatchObject({
      host: 'db.example.com',
      local: false,
      user: 'me',
      password: 'abc',
    });
    expect(refusal('postgres://db.example.com/x', { PGUSER: 'me', PGPASSWORD: strong() })).toBeUndefined();
    expect(refusal('postgres://db.example.com/x', { PGPASSWORD: 'changeme' })).toBeDefined();
    expect(refusal('postgres://me@db.example.com/x')).toBeDefined();
  });

  it('openDatabase rejects before connecting; the CLI exits 2 naming database.url without the password', async () => {
    const password = 'changeme-1234567';
    const url = `postgres://archiver:${password}@db.invalid:5432/bigbrotr`;
    const error = await openDatabase({ ...databaseSchema.parse({}), url }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    const result = await runCli(['stats'], { BIGBROTR_DATABASE_URL: url });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('database.url');
    expect(result.stderr).toContain('db.invalid');
    expect(result.stderr).not.toContain(password);
  }, 120_000);
});
