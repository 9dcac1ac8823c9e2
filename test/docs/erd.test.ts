import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMigrations } from '../../src/db/migrate.js';
import { erdPath, generateErd, readSchema, renderErd } from '../../scripts/gen-erd.js';
import { createTestDatabase, testDatabaseKind, type TestDatabase } from '../support/database.js';

describe('docs/erd.md', () => {
  let generated: string;
  beforeAll(async () => {
    generated = await generateErd();
  });

  it('is up to date with the migrations (run npm run docs:erd)', () => {
    const onDisk = readFileSync(erdPath(), 'utf8');
    expect(onDisk, 'docs/erd.md is stale: run npm run docs:erd').toBe(generated);
  });

  it('is the same on a second run (sorted, no timestamps)', async () => {
    expect(await generateErd()).toBe(generated);
  });

  it('shows every table and view of the schema, not the partitions, with keys and relationships', () => {
    const mermaid = /```mermaid\n([\s\S]*?)```/.exec(generated)?.[1] ?? '';
    expect(mermaid).toMatch(/^erDiagram\n/);
    for (const table of [
      'event',
      'event_relay',
      'relay',
      'relay_check',
      'metadata',
      'relay_health',
      'sync_cursor',
      'service_lease',
      'schema_migration',
    ]) {
      expect(mermaid, table).toContain(`  ${table} {\n`);
      expect(generated, table).toContain(`### \`${table}\``);
    }
    for (const view of ['relay_metadata_latest', 'relay_uptime', 'unique_events_stats'])
      expect(generated, view).toContain(`### \`${view}\``);
    expect(generated).not.toMatch(/event_y20\d\d|event_default/);
    expect(mermaid).toContain('relay ||--o{ event_relay : "relay_id"');
    expect(mermaid).toContain('relay ||--o| relay_health : "relay_id"');
    expect(mermaid).toContain('metadata |o--o{ relay_check : "metadata_id"');
    expect(mermaid).toMatch(/ {4}bytea id PK\n {4}bytea pubkey\n {4}bigint created_at PK\n/);
    // Column comments from the migrations reach the tables.
    expect(generated).toContain('| `tagvalues` | text[] | not null |');
    expect(generated).toMatch(/First value of every single-letter tag/);
    const newest = readMigrations().at(-1)?.name ?? '';
    expect(generated).toContain(`to \`${newest}\``);
  });
});

describe.runIf(testDatabaseKind === 'postgres')('the schema on PostgreSQL', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.dispose();
  });

  it('is the one docs/erd.md describes (same migrations, same catalog)', async () => {
    const rendered = renderErd(
      await readSchema(database.db),
      readMigrations().map((migration) => migration.name),
    );
    expect(rendered).toBe(readFileSync(erdPath(), 'utf8'));
  });
});
