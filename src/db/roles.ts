/**
 * Least-privilege roles (docs/database.md): `<prefix>_owner` (owns the schema, runs migrations),
 * `<prefix>_writer` (the services: DML only) and `<prefix>_reader` (the API: SELECT only). Migration
 * 0009 grants to those that exist; creating them needs CREATEROLE, so bigbrotr only prints the
 * statements, with placeholders where the passwords go (it never makes one up or shows one).
 */
import type { Queryable } from './database.js';

export const DEFAULT_ROLE_PREFIX = 'bigbrotr';

/** Lower-case identifiers (no quoting needed), short enough for `_writer` within PostgreSQL's 63 bytes. */
const PREFIX_PATTERN = /^[a-z_][a-z0-9_]{0,56}$/;
const DATABASE_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

export interface RoleNames {
  owner: string;
  writer: string;
  reader: string;
}

export function checkRolePrefix(prefix: string): string | undefined {
  return PREFIX_PATTERN.test(prefix)
    ? undefined
    : `expected lower-case letters, digits and _ (starting with a letter or _, at most 57 characters), got ${JSON.stringify(prefix)}`;
}

export function checkDatabaseName(name: string): string | undefined {
  return DATABASE_PATTERN.test(name)
    ? undefined
    : `expected lower-case letters, digits and _ (starting with a letter or _), got ${JSON.stringify(name)}`;
}

export function roleNames(prefix = DEFAULT_ROLE_PREFIX): RoleNames {
  const problem = checkRolePrefix(prefix);
  if (problem) throw new Error(`role prefix: ${problem}`);
  return { owner: `${prefix}_owner`, writer: `${prefix}_writer`, reader: `${prefix}_reader` };
}

/** The placeholder standing for a role's password in the printed script. */
export function passwordPlaceholder(role: keyof RoleNames): string {
  return `<${role} password>`;
}

/**
 * The SQL an administrator (superuser, or a role with CREATEROLE and CREATEDB) runs once to create the
 * roles and the database, one statement per line, with `<… password>` placeholders.
 */
export function createRolesScript(options: { prefix?: string; database?: string } = {}): string {
  const prefix = options.prefix ?? DEFAULT_ROLE_PREFIX;
  const names = roleNames(prefix);
  const database = options.database ?? 'bigbrotr';
  const problem = checkDatabaseName(database);
  if (problem) throw new Error(`database name: ${problem}`);
  return [
    `-- bigbrotr least-privilege roles (docs/database.md), prefix ${prefix}.`,
    '-- Run as a superuser or a role with CREATEROLE and CREATEDB, e.g. psql -v ON_ERROR_STOP=1 -f roles.sql',
    '-- Replace every <... password> placeholder with its own random password of at least 16 characters',
    "-- (e.g. openssl rand -base64 24); the same values go into each service's database.url.",
    `CREATE ROLE ${names.owner} LOGIN PASSWORD '${passwordPlaceholder('owner')}';`,
    `CREATE ROLE ${names.writer} LOGIN PASSWORD '${passwordPlaceholder('writer')}';`,
    `CREATE ROLE ${names.reader} LOGIN PASSWORD '${passwordPlaceholder('reader')}';`,
    '-- The owner owns the database: on PostgreSQL 15+ that alone lets it create tables in schema public.',
    `-- An existing database: ALTER DATABASE ${database} OWNER TO ${names.owner};`,
    `CREATE DATABASE ${database} OWNER ${names.owner};`,
    '-- Statement timeouts as role defaults (behind PgBouncer they replace database.statement_timeout_ms).',
    `ALTER ROLE ${names.writer} SET statement_timeout = '60s';`,
    `ALTER ROLE ${names.reader} SET statement_timeout = '10s';`,
    '-- Optional hardening: only these roles may connect.',
    `-- REVOKE CONNECT, TEMPORARY ON DATABASE ${database} FROM PUBLIC;`,
    `-- GRANT CONNECT ON DATABASE ${database} TO ${names.owner}, ${names.writer}, ${names.reader};`,
    '-- The writer stages bulk inserts in a temporary table (COPY):',
    `-- GRANT TEMPORARY ON DATABASE ${database} TO ${names.writer};`,
    '-- PostgreSQL 14 and older also let every role create tables in schema public; in the database run:',
    '-- REVOKE CREATE ON SCHEMA public FROM PUBLIC;',
    `-- Then run \`bigbrotr migrate\` connected as ${names.owner}: migration 0009 grants to ${names.writer} and ${names.reader}.`,
    `-- Roles created after that migration ran: \`bigbrotr roles --grant --prefix ${prefix}\` as ${names.owner}`,
    `-- (or SELECT bigbrotr_grant_roles('${prefix}'); in the database).`,
    '',
  ].join('\n');
}

/** Grants to those of the three roles that exist (the function of migration 0009); returns their names. */
export async function grantRoles(db: Queryable, prefix = DEFAULT_ROLE_PREFIX): Promise<string[]> {
  roleNames(prefix);
  const { rows } = await db.query<{ granted: string[] | null }>('SELECT bigbrotr_grant_roles($1) AS granted', [prefix]);
  return rows[0]?.granted ?? [];
}
