/**
 * The monitor's views with a long history: 240,000 checks over 200 relays. `relay_metadata_latest`
 * must answer one relay's latest checks with index probes on relay_check_latest_idx, never a scan of
 * relay_check; its rows must be the newest per type; the schedule query and storage helpers too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, documentId, dueRelaysForMonitor, storeRelayChecks } from '../../src/db/relay-checks.js';
import { knownLimitation } from '../../src/db/relay-metadata.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let test: TestDatabase;
const RELAYS = 200;
const CHECKS_PER_TYPE = 150;

beforeAll(async () => {
  test = await createTestDatabase();
  await test.db.query(
    `INSERT INTO relay (url, network, state, discovered_from) SELECT 'wss://relay' || n || '.example/', 'clearnet', 'active', 'seed' FROM generate_series(1, $1) AS n`,
    [RELAYS],
  );
  await test.db.query(
    `INSERT INTO relay_check (relay_id, check_type, checked_at, ok, rtt_ms)
     SELECT r.id, t.type, now() - make_interval(hours => h), (h % 10) <> 0, 50 + h % 100
     FROM relay r CROSS JOIN unnest(ARRAY['nip11','open','read','write','dns','ssl','geo','requirements']) AS t(type) CROSS JOIN generate_series(1, $1) AS h`,
    [CHECKS_PER_TYPE],
  );
  await test.db.query('ANALYZE relay_check');
  await test.db.query('ANALYZE relay');
}, 120_000);
afterAll(async () => {
  await test?.dispose();
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

async function plan(sql: string, params: unknown[]): Promise<PlanNode[]> {
  const { rows } = await test.db.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] | string }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
  const raw = rows[0]?.['QUERY PLAN'];
  const parsed = (typeof raw === 'string' ? JSON.parse(raw) : raw) as [{ Plan: PlanNode }];
  return nodes(parsed[0].Plan);
}

describe('relay_metadata_latest with a long history', () => {
  it('probes relay_check_latest_idx once per check type, with no scan of relay_check', async () => {
    const { rows: count } = await test.db.query<{ n: string }>('SELECT count(*) AS n FROM relay_check');
    expect(Number(count[0]?.n)).toBe(RELAYS * 8 * CHECKS_PER_TYPE);
    // relay_check is partitioned by month (0008): the plan reads each partition through its own
    // copy of relay_check_latest_idx.
    const { rows: partitions } = await test.db.query<{ table_name: string; index_name: string }>(
      `SELECT t.relid::regclass::text AS table_name, x.relid::regclass::text AS index_name
       FROM pg_partition_tree('relay_check') t JOIN pg_partition_tree('relay_check_latest_idx') x ON x.relid IN (SELECT indexrelid FROM pg_index WHERE indrelid = t.relid)`,
    );
    const checkTables = new Set(partitions.map((row) => row.table_name));
    const latestIndexes = new Set(partitions.map((row) => row.index_name));
    for (const [sql, params] of [
      ['SELECT * FROM relay_metadata_latest WHERE relay_id = $1', [7]],
      ['SELECT * FROM relay_metadata_latest WHERE url = $1', ['wss://relay7.example/']],
      [`SELECT data FROM relay_metadata_latest WHERE relay_id = $1 AND check_type = 'nip11'`, [7]],
    ] as const) {
      const planNodes = await plan(sql, [...params]);
      const onChecks = planNodes.filter((node) => checkTables.has(node['Relation Name'] ?? ''));
      expect(onChecks.length, sql).toBeGreaterThan(0);
      for (const node of onChecks) {
        expect(node['Node Type'], sql).toMatch(/^Index (Only )?Scan$/);
        expect(latestIndexes.has(node['Index Name'] ?? ''), `${sql}: ${node['Index Name']}`).toBe(true);
      }
    }
  });

  it('returns the newest check of each type', async () => {
    const { rows } = await test.db.query<{ check_type: string; checked_at: Date; ok: boolean }>(
      'SELECT check_type, checked_at, ok FROM relay_metadata_latest WHERE relay_id = 7 ORDER BY check_type',
    );
    expect(rows.map((row) => row.check_type)).toEqual(['dns', 'geo', 'nip11', 'open', 'read', 'requirements', 'ssl', 'write']);
    for (const row of rows) expect(Date.now() - new Date(row.checked_at).getTime()).toBeLessThan(2 * 3_600_000);
    const { rows: uptime } = await test.db.query<{ checks_30d: string; availability_7d: string }>(
      'SELECT checks_30d, availability_7d FROM relay_uptime WHERE relay_id = 7',
    );
    expect(Number(uptime[0]?.checks_30d)).toBe(CHECKS_PER_TYPE);
    expect(Number(uptime[0]?.availability_7d)).toBeCloseTo(135 / 150, 5); // every 10th hour failed
  });

  it('stores documents once by content address, newest wins, and only due relays are scheduled', async () => {
    const relayId = 9;
    const document = { name: 'x', limitation: { max_limit: 300, auth_required: false }, supported_nips: [1, 11] };
    const reordered = { supported_nips: [1, 11], limitation: { auth_required: false, max_limit: 300 }, name: 'x' };
    expect(canonicalJson(document)).toBe(canonicalJson(reordered));
    expect(documentId('nip11', canonicalJson(document))).not.toBe(documentId('dns', canonicalJson(document)));
    await storeRelayChecks(test.db, relayId, [
      { type: 'nip11', checkedAt: new Date(), ok: true, rttMs: 12, document, detail: { note: 'first' } },
    ]);
    await storeRelayChecks(test.db, relayId, [{ type: 'nip11', checkedAt: new Date(), ok: true, rttMs: 10, document: reordered }]);
    const { rows } = await test.db.query<{ n: string }>(`SELECT count(*) AS n FROM metadata WHERE type = 'nip11'`);
    expect(Number(rows[0]?.n)).toBe(1);
    expect(await knownLimitation(test.db, relayId)).toEqual({ maxLimit: 300 });

    // Every relay was checked within the last hours: nothing is due with an interval of a day, all with one of a minute.
    expect(await dueRelaysForMonitor(test.db, { intervalSeconds: 86_400, limit: 10, service: 'monitor' })).toEqual([]);
    expect(await dueRelaysForMonitor(test.db, { intervalSeconds: 60, limit: 500, service: 'monitor' })).toHaveLength(RELAYS);
    await test.db.query(
      `INSERT INTO service_lease (service, resource, owner, expires_at) VALUES ('monitor', '3', 'someone-else', now() + interval '1 minute')`,
    );
    const due = await dueRelaysForMonitor(test.db, { intervalSeconds: 60, limit: 500, service: 'monitor' });
    expect(due).toHaveLength(RELAYS - 1);
    expect(due.some((relay) => relay.id === 3)).toBe(false);
  });
});
