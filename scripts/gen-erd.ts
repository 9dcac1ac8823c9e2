/**
 * Regenerates docs/erd.md from the live schema: `npm run docs:erd`.
 *
 * A fresh embedded database (PGlite in a temporary directory) gets every migration in `migrations/`,
 * then the catalog is read (tables without their partitions, columns, keys, foreign keys, checks,
 * indexes, views and the comments the migrations put on them; a reference enforced by triggers
 * instead of a foreign key is read from its trigger's comment, `References t (c) from (c), on
 * delete x.`) and rendered as a mermaid `erDiagram` plus one table per relation. The output is deterministic (sorted, no timestamps), so
 * test/docs/erd.test.ts regenerates it and fails when docs/erd.md is stale.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/loader.js';
import type { Queryable } from '../src/db/database.js';
import { migrate, readMigrations } from '../src/db/migrate.js';
import { openDatabase } from '../src/db/open.js';
import { packageRoot } from '../src/package-root.js';

export interface SchemaColumn {
  name: string;
  type: string;
  notNull: boolean;
  default: string | null;
  identity: boolean;
  comment: string | null;
}

export interface SchemaForeignKey {
  name: string;
  columns: string[];
  table: string;
  referencedColumns: string[];
  onDelete: string;
  /** Enforced by this trigger (named by `name`) instead of a foreign key constraint. */
  trigger?: boolean;
}

export interface SchemaRelation {
  name: string;
  kind: 'table' | 'partitioned table' | 'view';
  comment: string | null;
  columns: SchemaColumn[];
  primaryKey: string[];
  /** Column lists of UNIQUE constraints. */
  unique: string[][];
  foreignKeys: SchemaForeignKey[];
  checks: { name: string; definition: string }[];
  indexes: { name: string; definition: string }[];
  /** `RANGE (created_at)` for a partitioned table. */
  partitionKey: string | null;
  /** Relations a view reads. */
  reads: string[];
}

export interface SchemaModel {
  relations: SchemaRelation[];
}

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Reads the public schema from the catalog: every table (partitions excluded) and view, sorted by name. */
export async function readSchema(db: Queryable): Promise<SchemaModel> {
  const { rows: relations } = await db.query<{
    oid: number;
    name: string;
    relkind: string;
    comment: string | null;
    partition_key: string | null;
  }>(
    `SELECT c.oid::int AS oid, c.relname AS name, c.relkind::text AS relkind, obj_description(c.oid, 'pg_class') AS comment,
            CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition`,
  );
  const { rows: columns } = await db.query<{
    relid: number;
    name: string;
    type: string;
    not_null: boolean;
    default_value: string | null;
    identity: string;
    comment: string | null;
  }>(
    `SELECT a.attrelid::int AS relid, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
            pg_get_expr(d.adbin, d.adrelid) AS default_value, a.attidentity::text AS identity, col_description(a.attrelid, a.attnum) AS comment
     FROM pg_attribute a
     JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE n.nspname = 'public' AND a.attnum > 0 AND NOT a.attisdropped
     ORDER BY a.attrelid, a.attnum`,
  );
  // Constraint columns in their constraint order (unnest WITH ORDINALITY), named, so no array parsing is needed.
  const { rows: constraints } = await db.query<{
    relid: number;
    name: string;
    type: string;
    columns: string[];
    ref_table: string | null;
    ref_columns: string[] | null;
    on_delete: string;
    definition: string;
  }>(
    `SELECT con.conrelid::int AS relid, con.conname AS name, con.contype::text AS type,
            ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                  JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS columns,
            ref.relname AS ref_table,
            ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                  JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord) AS ref_columns,
            con.confdeltype::text AS on_delete, pg_get_constraintdef(con.oid) AS definition
     FROM pg_constraint con
     JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_class ref ON ref.oid = con.confrelid
     WHERE n.nspname = 'public' AND con.contype IN ('p', 'u', 'f', 'c')`,
  );
  // Indexes of their own (not the ones behind a primary key or unique constraint).
  const { rows: indexes } = await db.query<{ relid: number; name: string; definition: string }>(
    `SELECT i.indrelid::int AS relid, ic.relname AS name, pg_get_indexdef(i.indexrelid) AS definition
     FROM pg_index i
     JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid)`,
  );
  // References enforced by triggers (migration 0012): the comment on the trigger that checks them says so.
  const { rows: triggerReferences } = await db.query<{ relid: number; name: string; comment: string }>(
    `SELECT t.tgrelid::int AS relid, t.tgname AS name, obj_description(t.oid, 'pg_trigger') AS comment
     FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND NOT t.tgisinternal AND obj_description(t.oid, 'pg_trigger') LIKE 'References %'`,
  );
  const { rows: viewReads } = await db.query<{ relid: number; name: string }>(
    `SELECT DISTINCT r.ev_class::int AS relid, t.relname AS name
     FROM pg_rewrite r
     JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass
     JOIN pg_class t ON t.oid = d.refobjid
     WHERE d.refobjid <> r.ev_class AND t.relkind IN ('r', 'p', 'v', 'm')`,
  );

  const identityOrDefault = (row: { identity: string; default_value: string | null }) =>
    row.identity === 'a' || row.identity === 'd' ? null : row.default_value;
  const model: SchemaRelation[] = relations.map((relation) => {
    const own = constraints.filter((row) => row.relid === relation.oid);
    return {
      name: relation.name,
      kind: relation.relkind === 'p' ? 'partitioned table' : relation.relkind === 'r' ? 'table' : 'view',
      comment: relation.comment,
      columns: columns
        .filter((row) => row.relid === relation.oid)
        .map((row) => ({
          name: row.name,
          type: row.type,
          notNull: row.not_null,
          default: identityOrDefault(row),
          identity: row.identity === 'a' || row.identity === 'd',
          comment: row.comment,
        })),
      primaryKey: own.find((row) => row.type === 'p')?.columns ?? [],
      unique: own
        .filter((row) => row.type === 'u')
        .sort(byName)
        .map((row) => row.columns),
      foreignKeys: [
        ...own
          .filter((row) => row.type === 'f')
          .map((row) => ({
            name: row.name,
            columns: row.columns,
            table: row.ref_table ?? '?',
            referencedColumns: row.ref_columns ?? [],
            onDelete: ON_DELETE[row.on_delete] ?? row.on_delete,
          })),
        ...triggerReferences.filter((row) => row.relid === relation.oid).flatMap((row) => triggerReference(row.name, row.comment)),
      ].sort(byName),
      checks: own
        .filter((row) => row.type === 'c')
        .sort(byName)
        .map((row) => ({ name: row.name, definition: row.definition })),
      indexes: indexes
        .filter((row) => row.relid === relation.oid)
        .sort(byName)
        .map((row) => ({ name: row.name, definition: indexDefinition(row.definition) })),
      partitionKey: relation.partition_key,
      reads: viewReads
        .filter((row) => row.relid === relation.oid)
        .map((row) => row.name)
        .sort(),
    };
  });
  return { relations: model.sort(byName) };
}

/** `References relay (id) from (relay_id), on delete cascade. …` on a trigger → the reference it enforces. */
function triggerReference(name: string, comment: string): SchemaForeignKey[] {
  const match = /^References (\w+) \(([\w, ]+)\) from \(([\w, ]+)\), on delete ([a-z ]+)\./.exec(comment);
  if (!match) return [];
  const list = (text: string) => text.split(',').map((column) => column.trim());
  return [
    {
      name,
      columns: list(match[3] as string),
      table: match[1] as string,
      referencedColumns: list(match[2] as string),
      onDelete: match[4] as string,
      trigger: true,
    },
  ];
}

const ON_DELETE: Record<string, string> = { a: 'no action', r: 'restrict', c: 'cascade', n: 'set null', d: 'set default' };

/** `CREATE [UNIQUE] INDEX name ON [ONLY] public.t USING btree (a, b)` → `[UNIQUE] btree (a, b)`. */
function indexDefinition(definition: string): string {
  const using = /\sUSING\s(.*)$/.exec(definition)?.[1] ?? definition;
  return /^CREATE UNIQUE /.test(definition) ? `UNIQUE ${using}` : using;
}

/** Mermaid attribute types are one word: `timestamp with time zone` → `timestamptz`, `text[]` → `text_array`. */
function mermaidType(type: string): string {
  const short: Record<string, string> = {
    'timestamp with time zone': 'timestamptz',
    'timestamp without time zone': 'timestamp',
    'double precision': 'float8',
    'character varying': 'varchar',
  };
  const base = type.replace(/\[\]$/, '');
  const word = (short[base] ?? base).replace(/[^A-Za-z0-9_]+/g, '_').replace(/_+$/, '');
  return type.endsWith('[]') ? `${word}_array` : word;
}

function keysOf(relation: SchemaRelation, column: string): string {
  const keys: string[] = [];
  if (relation.primaryKey.includes(column)) keys.push('PK');
  if (relation.foreignKeys.some((fk) => fk.columns.includes(column))) keys.push('FK');
  if (relation.unique.some((columns) => columns.includes(column))) keys.push('UK');
  return keys.join(', ');
}

/** `||--o{` (many), `||--o|` (at most one: the key is the child's whole primary key or unique), `|o` when the key may be NULL. */
function cardinality(child: SchemaRelation, fk: SchemaForeignKey): string {
  const same = (columns: string[]) => columns.length === fk.columns.length && columns.every((column) => fk.columns.includes(column));
  const atMostOne = same(child.primaryKey) || child.unique.some(same);
  const optional = fk.columns.some((name) => !child.columns.find((column) => column.name === name)?.notNull);
  return `${optional ? '|o' : '||'}--${atMostOne ? 'o|' : 'o{'}`;
}

function cell(text: string | null): string {
  return (text ?? '').replace(/\s+/g, ' ').replace(/\|/g, '\\|').trim();
}

function code(text: string): string {
  return `\`${text.replace(/\s+/g, ' ')}\``;
}

export function renderErd(model: SchemaModel, migrations: string[]): string {
  const tables = model.relations.filter((relation) => relation.kind !== 'view');
  const views = model.relations.filter((relation) => relation.kind === 'view');
  const lines: string[] = [
    '# Database schema (ERD)',
    '',
    '<!-- Generated from the migrations by `npm run docs:erd` (scripts/gen-erd.ts). Do not edit by hand: a test fails when this file is out of date. -->',
    '',
    `Read from the catalog of a fresh embedded database with every migration applied (${migrations.length ? `${code(migrations[0] as string)} to ${code(migrations[migrations.length - 1] as string)}` : 'none'}).`,
    'Partitions are not listed: a partitioned table shows its partition key (see [architecture.md](architecture.md#schema)).',
    'Indexes that back a primary key or unique constraint are not listed separately.',
    'The descriptions are the `COMMENT ON` texts of the migrations. Why the schema looks like this: [architecture.md](architecture.md#schema) and',
    '[decisions.md](decisions.md); operating it: [database.md](database.md).',
    '',
    '```mermaid',
    'erDiagram',
  ];
  const relationships: string[] = [];
  for (const table of tables) {
    for (const fk of table.foreignKeys)
      relationships.push(`  ${fk.table} ${cardinality(table, fk)} ${table.name} : "${fk.columns.join(', ')}"`);
  }
  lines.push(...relationships.sort());
  for (const table of tables) {
    lines.push(`  ${table.name} {`);
    for (const column of table.columns) {
      const keys = keysOf(table, column.name);
      lines.push(`    ${mermaidType(column.type)} ${column.name}${keys ? ` ${keys}` : ''}`);
    }
    lines.push('  }');
  }
  lines.push('```', '');

  const renderRelation = (relation: SchemaRelation) => {
    lines.push(`### \`${relation.name}\``, '');
    if (relation.comment) lines.push(cell(relation.comment), '');
    if (relation.partitionKey) lines.push(`Partitioned by ${code(relation.partitionKey)}.`, '');
    if (relation.reads.length) lines.push(`Reads ${relation.reads.map((name) => `\`${name}\``).join(', ')}.`, '');
    if (relation.kind === 'view') {
      lines.push('| column | type | description |', '| --- | --- | --- |');
      for (const column of relation.columns) lines.push(`| \`${column.name}\` | ${column.type} | ${cell(column.comment)} |`);
    } else {
      lines.push('| column | type | null | default | key | description |', '| --- | --- | --- | --- | --- | --- |');
      for (const column of relation.columns) {
        const fk = relation.foreignKeys.find((entry) => entry.columns.length === 1 && entry.columns[0] === column.name);
        const key = [keysOf(relation, column.name), fk ? `→ \`${fk.table}.${fk.referencedColumns.join(', ')}\`` : '']
          .filter(Boolean)
          .join(' ');
        const defaultText = column.identity ? 'identity' : column.default === null ? '' : code(column.default);
        lines.push(
          `| \`${column.name}\` | ${column.type} | ${column.notNull ? 'not null' : 'null'} | ${cell(defaultText)} | ${key} | ${cell(column.comment)} |`,
        );
      }
    }
    lines.push('');
    const facts: string[] = [];
    if (relation.primaryKey.length > 1) facts.push(`Primary key: (${relation.primaryKey.join(', ')}).`);
    for (const columns of relation.unique) if (columns.length > 1) facts.push(`Unique: (${columns.join(', ')}).`);
    for (const fk of relation.foreignKeys) {
      const what = fk.trigger
        ? `Reference enforced by trigger \`${fk.name}\` (not a foreign key constraint)`
        : `Foreign key \`${fk.name}\``;
      facts.push(`${what}: (${fk.columns.join(', ')}) → \`${fk.table}\` (${fk.referencedColumns.join(', ')}), on delete ${fk.onDelete}.`);
    }
    for (const check of relation.checks) facts.push(`Check \`${check.name}\`: ${code(check.definition)}.`);
    for (const index of relation.indexes) facts.push(`Index \`${index.name}\`: ${code(index.definition)}.`);
    const referencedBy = tables.flatMap((other) =>
      other.foreignKeys.filter((fk) => fk.table === relation.name).map((fk) => `\`${other.name}\` (${fk.columns.join(', ')})`),
    );
    if (referencedBy.length) facts.push(`Referenced by ${[...new Set(referencedBy)].sort().join(', ')}.`);
    if (facts.length) lines.push(...facts.map((fact) => `- ${fact}`), '');
  };

  lines.push('## Tables', '');
  for (const table of tables) renderRelation(table);
  lines.push('## Views', '');
  for (const view of views) renderRelation(view);
  return `${lines.join('\n').replace(/\n+$/, '')}\n`;
}

/**
 * Builds docs/erd.md in memory: a fresh embedded database in a temporary directory, migrated, read
 * and rendered, then closed and removed.
 */
export async function generateErd(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'bigbrotr-erd-'));
  try {
    const { config } = loadConfig({ env: {}, overrides: { 'database.data_dir': join(dir, 'data') } });
    const db = await openDatabase(config.database);
    try {
      await migrate(db, { lockTimeoutMs: config.database.migrate_lock_timeout_ms });
      return renderErd(
        await readSchema(db),
        readMigrations().map((migration) => migration.name),
      );
    } finally {
      await db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function erdPath(): string {
  return join(packageRoot(), 'docs', 'erd.md');
}

const invokedDirectly = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const target = erdPath();
  writeFileSync(target, await generateErd());
  console.log(`wrote ${target}`);
}
