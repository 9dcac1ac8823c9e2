/**
 * Least-privilege roles. `bigbrotr roles --print` (no database needed) prints the statements with
 * placeholders; on PostgreSQL the printed script, passwords filled in, creates roles with a unique
 * prefix and the database, migrations run as the owner, and then the reader can only read (the API
 * works on it) and the writer can do what the services do but no DDL. Roles are cluster-wide: they
 * are dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type HttpServer } from '../../src/api/http-server.js';
import { loadConfig } from '../../src/config/loader.js';
import type { DatabaseConfig } from '../../src/config/schema.js';
import { databaseSchema } from '../../src/config/schema.js';
import type { Database } from '../../src/db/database.js';
import { DatabaseError } from '../../src/db/errors.js';
import { getEventsByIds, insertEventBatch } from '../../src/db/events.js';
import { migrate, migrationsDir, readMigrations } from '../../src/db/migrate.js';
import { openDatabase } from '../../src/db/open.js';
import { storeRelayChecks } from '../../src/db/relay-checks.js';
import { getOrCreateRelayIds, setRelayState } from '../../src/db/relays.js';
import { createRolesScript, grantRoles, passwordPlaceholder, roleNames } from '../../src/db/roles.js';
import type { NostrEvent } from '../../src/nostr/event.js';
import { silentLogger } from '../../src/observability/logger.js';
import { metricsRegistry } from '../../src/observability/metrics.js';
import { runCli } from '../support/cli.js';
import { serverUrl } from '../support/database.js';
import { generateEvents } from '../support/events.js';

describe('bigbrotr roles --print', () => {
  it('prints CREATE ROLE statements for the three roles with password placeholders, never a password', async () => {
    const result = await runCli(['roles', '--print']);
    expect(result.code, result.stderr).toBe(0);
    for (const role of ['owner', 'writer', 'reader'] as const) {
      expect(result.stdout).toContain(`CREATE ROLE bigbrotr_${role} LOGIN PASSWORD '${passwordPlaceholder(role)}';`);
    }
    expect(result.stdout).toContain('CREATE DATABASE bigbrotr OWNER bigbrotr_owner;');
    expect(result.stdout).toContain("SELECT bigbrotr_grant_roles('bigbrotr')");
    // The only PASSWORD values are placeholders.
    expect([...result.stdout.matchAll(/PASSWORD '([^']*)'/g)].map((match) => match[1])).toEqual([
      '<owner password>',
      '<writer password>',
      '<reader password>',
    ]);
    const custom = await runCli(['roles', '--print', '--prefix', 'archive2', '--database', 'archive2']);
    expect(custom.stdout).toContain('CREATE ROLE archive2_writer LOGIN');
    expect(custom.stdout).toContain('CREATE DATABASE archive2 OWNER archive2_owner;');
  }, 120_000);

  it('refuses a bad prefix and needs exactly one action', async () => {
    const bad = await runCli(['roles', '--print', '--prefix', 'Bad-Name; DROP']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--prefix');
    const none = await runCli(['roles']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--print');
  }, 120_000);
});

const prefix = `bigbrotr_t${process.pid}_${randomBytes(3).toString('hex')}`;
const names = roleNames(prefix);
const databaseName = `${prefix}_db`;
const passwords = {
  owner: randomBytes(18).toString('base64url'),
  writer: randomBytes(18).toString('base64url'),
  reader: randomBytes(18).toString('base64url'),
};
const defaults = databaseSchema.parse({});

function urlFor(role: keyof typeof names): string {
  const url = new URL(serverUrl as string);
  url.username = names[role];
  url.password = passwords[role];
  url.pathname = `/${databaseName}`;
  return url.toString();
}

async function adminRun(statements: string[], database = 'postgres'): Promise<void> {
  const url = new URL(serverUrl as string);
  url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

async function permissionError(promise: Promise<unknown>): Promise<DatabaseError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DatabaseError);
  expect((error as DatabaseError).code).toBe('42501'); // insufficient_privilege
  expect((error as Error).message).toMatch(/permission denied|must be owner/);
  return error as DatabaseError;
}

describe.runIf(serverUrl !== undefined)('least-privilege roles on PostgreSQL', () => {
  let owner: Database;
  let writer: Database;
  let reader: Database;
  let server: HttpServer | undefined;
  let events: NostrEvent[];
  let relayId: number;
  const config = (role: keyof typeof names): DatabaseConfig => ({ ...defaults, url: urlFor(role), pool_size: 2 });

  beforeAll(async () => {
    // The printed script, statement by statement (CREATE DATABASE cannot run in a transaction), passwords filled in.
    let script = createRolesScript({ prefix, database: databaseName });
    for (const role of ['owner', 'writer', 'reader'] as const) script = script.replace(passwordPlaceholder(role), passwords[role]);
    const statements = script.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('--'));
    expect(statements.filter((line) => line.startsWith('CREATE ROLE'))).toHaveLength(3);
    await adminRun(statements);
    owner = await openDatabase(config('owner'));
    const result = await migrate(owner, { lockTimeoutMs: 30_000 });
    expect(result.applied).toEqual(readMigrations().map((file) => file.name));
    writer = await openDatabase(config('writer'));
    reader = await openDatabase(config('reader'));
    events = generateEvents({
      count: 40,
      authors: 4,
      kinds: [1, 7],
      createdAt: [Math.floor(Date.now() / 1000) - 86_400, Math.floor(Date.now() / 1000) - 60],
      seed: 'roles',
    });
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await Promise.all([owner, writer, reader].map((db) => db?.close()));
    await adminRun([`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`]).catch(() => undefined);
    for (const role of [names.reader, names.writer, names.owner]) {
      await adminRun([`DROP OWNED BY ${role}`, `DROP ROLE IF EXISTS ${role}`]).catch(() => undefined);
    }
  });

  it('the owner owns every table the migrations created; grants cover writer and reader', async () => {
    const { rows } = await owner.query<{ owners: string[] }>(
      `SELECT array_agg(DISTINCT tableowner::text) AS owners FROM pg_tables WHERE schemaname = 'public'`,
    );
    expect(rows[0]?.owners).toEqual([names.owner]);
    expect(await grantRoles(owner, prefix)).toEqual([names.writer, names.reader]);
  });

  it('the writer does what the services do: relays, events, checks, updates and deletes; the schema check at start-up passes', async () => {
    expect((await migrate(writer, { lockTimeoutMs: 5_000 })).applied).toEqual([]);
    const ids = await getOrCreateRelayIds(writer, [{ url: 'wss://roles.example/', network: 'clearnet' }], 'test');
    relayId = ids.get('wss://roles.example/') as number;
    await setRelayState(writer, relayId, 'active');
    expect((await insertEventBatch(writer, events, relayId)).newEvents).toBe(events.length);
    await storeRelayChecks(writer, relayId, [
      { type: 'open', checkedAt: new Date(), ok: true, rttMs: 12 },
      { type: 'nip11', checkedAt: new Date(), ok: true, document: { name: 'Roles relay', supported_nips: [1, 11] } },
    ]);
    await writer.query(
      `INSERT INTO service_lease (service, resource, owner, expires_at) VALUES ('test', 'r', 'me', now() + interval '1 minute')`,
    );
    expect((await writer.query(`DELETE FROM service_lease WHERE service = 'test'`)).rowCount).toBe(1);
    expect(
      (
        await getEventsByIds(
          writer,
          events.map((event) => event.id),
        )
      ).length,
    ).toBe(events.length);
  });

  it('the writer cannot change the schema or record migrations', async () => {
    await permissionError(writer.exec('CREATE TABLE writer_probe (x int)'));
    await permissionError(writer.exec('DROP TABLE relay'));
    await permissionError(writer.exec('ALTER TABLE event ADD COLUMN writer_probe int'));
    await permissionError(writer.exec('TRUNCATE event_relay'));
    await permissionError(writer.query(`INSERT INTO schema_migration (name, checksum) VALUES ('9999_fake.sql', 'x')`));
    // A pending migration run as the writer fails with the permission error, and nothing is applied.
    const dir = mkdtempSync(join(tmpdir(), 'bigbrotr-roles-migrations-'));
    try {
      cpSync(migrationsDir(), dir, { recursive: true });
      writeFileSync(join(dir, '9001_probe.sql'), 'CREATE TABLE roles_probe (x int);');
      const failure = await migrate(writer, { lockTimeoutMs: 5_000, dir }).catch((error: unknown) => error);
      expect((failure as Error).message).toMatch(/migration 9001_probe\.sql failed: .*permission denied for schema public/);
      expect((await writer.query<{ name: string | null }>(`SELECT to_regclass('roles_probe')::text AS name`)).rows[0]?.name).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the reader can SELECT; INSERT, UPDATE, DELETE and CREATE fail with permission errors', async () => {
    expect((await migrate(reader, { lockTimeoutMs: 5_000 })).applied).toEqual([]);
    expect((await reader.query<{ n: number }>('SELECT count(*) AS n FROM event')).rows[0]?.n).toBe(events.length);
    expect((await reader.query<{ n: number }>('SELECT count(*) AS n FROM relay_metadata_latest')).rows[0]?.n).toBeGreaterThan(0);
    await permissionError(
      reader.query(`INSERT INTO relay (url, network, discovered_from) VALUES ('wss://reader.example/', 'clearnet', 'test')`),
    );
    await permissionError(reader.query(`UPDATE relay SET state = 'retired'`));
    await permissionError(reader.query('DELETE FROM event'));
    await permissionError(insertEventBatch(reader, generateEvents({ count: 1, seed: 'reader-write' }), relayId));
    await permissionError(reader.exec('CREATE TABLE reader_probe (x int)'));
    await permissionError(reader.exec(`CREATE SCHEMA reader_probe`));
    await permissionError(reader.exec('CREATE VIEW reader_probe AS SELECT 1'));
  });

  it('the API serves /v1/stats and /v1/events with the reader', async () => {
    const current = loadConfig({ env: {} }).config;
    server = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      registry: metricsRegistry(),
      checkReady: () => reader.ping(),
      readinessTimeoutMs: 2_000,
      logger: silentLogger(),
      api: { db: reader, config: () => current, version: 'test' },
    });
    const stats = await fetch(`${server.url}/v1/stats`);
    expect(stats.status).toBe(200);
    expect(JSON.stringify(await stats.json())).toContain(String(events.length));
    const page = await fetch(`${server.url}/v1/events?limit=100`);
    expect(page.status).toBe(200);
    const body = (await page.json()) as { events: NostrEvent[] };
    expect(body.events.map((event) => event.id).sort()).toEqual(events.map((event) => event.id).sort());
  });

  it('tables created later by the owner are covered by default privileges', async () => {
    await owner.exec('CREATE TABLE roles_later (x int)');
    await writer.query('INSERT INTO roles_later (x) VALUES (1)');
    expect((await reader.query<{ x: number }>('SELECT x FROM roles_later')).rows).toEqual([{ x: 1 }]);
    await permissionError(reader.query('INSERT INTO roles_later (x) VALUES (2)'));
  });
});
