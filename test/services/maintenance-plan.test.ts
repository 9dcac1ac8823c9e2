/**
 * The maintenance plan (pure): monthly event partitions ahead, partitions of another range replaced
 * only when small, never an overlap (a year partly covered is completed month by month), rows
 * stranded in event_default given a partition only within the bounds, retention month by month.
 */
import { describe, expect, it } from 'vitest';
import { configSchema, type MaintenanceConfig } from '../../src/config/schema.js';
import type { PartitionInfo, PartitionedTable } from '../../src/db/maintenance.js';
import { planPartitions, SPLIT_MAX_ROWS, type MaintenancePlan, type PlanInput } from '../../src/services/maintenance/plan.js';

const at = (iso: string) => Date.parse(iso) / 1000;

function settings(maintenance: Partial<MaintenanceConfig>): MaintenanceConfig {
  return configSchema.parse({ maintenance: { check_retention_days: 0, ...maintenance } }).maintenance;
}

function partition(table: PartitionedTable, name: string, from: string | null, to: string | null, isDefault = false): PartitionInfo {
  return { table, name, isDefault, from: from === null ? null : at(from), to: to === null ? null : at(to), estimatedRows: 0 };
}

/** What migration 0001 and 0008 leave for events: 2020-2030 by year, a default partition. */
function yearlyEvents(): PartitionInfo[] {
  const years = Array.from({ length: 11 }, (_, index) => 2020 + index).map((year) =>
    partition('event', `event_y${year}`, `${year}-01-01T00:00:00Z`, `${year + 1}-01-01T00:00:00Z`),
  );
  return [...years, partition('event', 'event_default', null, null, true)];
}

function input(event: PartitionInfo[], extra: Partial<PlanInput> = {}): PlanInput {
  return {
    existing: { event, relay_check: [partition('relay_check', 'relay_check_default', null, null, true)] },
    stranded: [],
    candidateRows: new Map(),
    splitMaxRows: SPLIT_MAX_ROWS,
    ...extra,
  };
}

function eventNames(plan: MaintenancePlan): { split: string[]; create: string[]; drop: string[] } {
  return {
    split: plan.split.map((entry) => `${entry.partition.name}->${entry.into.map((month) => month.name).join(',')}`),
    create: plan.create.filter((entry) => entry.table === 'event').map((entry) => entry.name),
    drop: plan.drop.filter((entry) => entry.table === 'event').map((entry) => entry.name),
  };
}

/** Every pair of ranged partitions after the plan is carried out, checked for overlap. */
function expectNoOverlap(existing: PartitionInfo[], plan: MaintenancePlan): void {
  const gone = new Set(plan.split.map((entry) => entry.partition.name));
  const ranges = [
    ...existing
      .filter((info) => !info.isDefault && !gone.has(info.name))
      .map((info) => ({ name: info.name, from: info.from ?? -Infinity, to: info.to ?? Infinity })),
    ...[...plan.split.flatMap((entry) => entry.into), ...plan.create].filter((entry) => entry.table === 'event'),
  ];
  for (const [index, a] of ranges.entries()) {
    for (const b of ranges.slice(index + 1)) expect(a.from < b.to && b.from < a.to, `${a.name} overlaps ${b.name}`).toBe(false);
  }
}

describe('maintenance plan: monthly event partitions', () => {
  it('replaces the empty yearly partition reaching the months ahead by months, the past ones of its year included', () => {
    const existing = yearlyEvents();
    const now = new Date('2027-03-15T12:00:00Z');
    const plan = planPartitions(
      input(existing, { candidateRows: new Map([['event_y2027', 0]]) }),
      settings({ event_partition_interval: 'month', partitions_ahead_months: 2 }),
      now,
    );
    expect(eventNames(plan)).toEqual({
      split: ['event_y2027->event_y2027m01,event_y2027m02,event_y2027m03,event_y2027m04,event_y2027m05'],
      create: [],
      drop: [],
    });
    expect(plan.split[0]?.into[2]).toMatchObject({ from: at('2027-03-01T00:00:00Z'), to: at('2027-04-01T00:00:00Z') });
    expect(plan.warnings).toEqual([]);
    expectNoOverlap(existing, plan);
  });

  it('keeps a yearly partition holding more rows than the cap, creates months only where no partition is, and never overlaps', () => {
    const existing = yearlyEvents();
    const now = new Date('2027-11-15T12:00:00Z');
    const config = settings({ event_partition_interval: 'month', partitions_ahead_months: 3 });
    const rows = new Map([
      ['event_y2027', SPLIT_MAX_ROWS + 1],
      ['event_y2028', 0],
    ]);
    const plan = planPartitions(input(existing, { candidateRows: rows }), config, now);
    // November and December 2027 stay in event_y2027; 2028 (empty) gives way to its months.
    expect(eventNames(plan)).toEqual({ split: ['event_y2028->event_y2028m01,event_y2028m02'], create: [], drop: [] });
    expect(plan.warnings).toEqual([]);
    expectNoOverlap(existing, plan);

    // A partition counted only as "more than the cap" is left alone too; so is one never counted.
    expect(planPartitions(input(existing, { candidateRows: new Map([['event_y2027', 3]]), splitMaxRows: 2 }), config, now).split).toEqual(
      [],
    );
  });

  it('with existing monthly partitions, switching back to years completes a partly covered year month by month', () => {
    const existing = [
      ...yearlyEvents().filter((info) => info.name !== 'event_y2028'),
      partition('event', 'event_y2028m01', '2028-01-01T00:00:00Z', '2028-02-01T00:00:00Z'),
      partition('event', 'event_y2028m02', '2028-02-01T00:00:00Z', '2028-03-01T00:00:00Z'),
    ];
    const plan = planPartitions(
      input(existing),
      settings({ event_partition_interval: 'year', partitions_ahead_months: 3 }),
      new Date('2028-02-10T00:00:00Z'),
    );
    expect(eventNames(plan).create).toEqual([
      'event_y2028m03',
      'event_y2028m04',
      'event_y2028m05',
      'event_y2028m06',
      'event_y2028m07',
      'event_y2028m08',
      'event_y2028m09',
      'event_y2028m10',
      'event_y2028m11',
      'event_y2028m12',
    ]);
    expect(plan.warnings).toEqual([]);
    expectNoOverlap(existing, plan);
  });

  it('leaves a month that a hand-made partition covers in part, with a warning', () => {
    const existing = [
      partition('event', 'event_custom', '2031-01-15T00:00:00Z', '2031-02-15T00:00:00Z'),
      partition('event', 'event_default', null, null, true),
    ];
    const plan = planPartitions(
      input(existing),
      settings({ event_partition_interval: 'month', partitions_ahead_months: 2 }),
      new Date('2031-01-20T00:00:00Z'),
    );
    expect(eventNames(plan).create).toEqual(['event_y2031m03']);
    expect(plan.warnings).toEqual([
      'event_y2031m01 not created: event_custom already cover(s) part of [2031-01-01T00:00:00.000Z, 2031-02-01T00:00:00.000Z)',
      'event_y2031m02 not created: event_custom already cover(s) part of [2031-02-01T00:00:00.000Z, 2031-03-01T00:00:00.000Z)',
    ]);
    expectNoOverlap(existing, plan);
  });
});

describe('maintenance plan: rows stranded in the default partition', () => {
  const uncovered2024 = () => yearlyEvents().filter((info) => info.name !== 'event_y2024');
  const stranded = [
    { monthStart: at('2024-04-01T00:00:00Z'), rows: 3 },
    { monthStart: at('2024-09-01T00:00:00Z'), rows: 2 },
  ];

  it('gives them the partition of their year, or of their month, and says how many rows it takes in', () => {
    const now = new Date('2026-06-01T00:00:00Z');
    const yearly = planPartitions(input(uncovered2024(), { stranded }), settings({}), now);
    expect(yearly.create.filter((entry) => entry.table === 'event')).toEqual([
      { table: 'event', name: 'event_y2024', from: at('2024-01-01T00:00:00Z'), to: at('2025-01-01T00:00:00Z'), strandedRows: 5 },
    ]);
    const monthly = planPartitions(input(uncovered2024(), { stranded }), settings({ event_partition_interval: 'month' }), now);
    expect(monthly.create.filter((entry) => entry.table === 'event').map((entry) => [entry.name, entry.strandedRows])).toEqual([
      ['event_y2024m04', 3],
      ['event_y2024m09', 2],
    ]);
  });

  it('leaves them where retention would drop their partition at once, or beyond the partitions ahead', () => {
    const now = new Date('2026-06-01T00:00:00Z');
    expect(eventNames(planPartitions(input(uncovered2024(), { stranded }), settings({ event_retention_days: 365 }), now)).create).toEqual(
      [],
    );
    // 2026 is covered by event_y2026 (never counted, so not replaced); 1970-ish and far-future rows stay.
    const beyond = [
      { monthStart: at('2031-05-01T00:00:00Z'), rows: 1 },
      { monthStart: at('2019-12-01T00:00:00Z'), rows: 1 },
    ];
    expect(
      eventNames(planPartitions(input(yearlyEvents(), { stranded: beyond }), settings({ event_partition_interval: 'month' }), now)).create,
    ).toEqual([]);
  });
});

describe('maintenance plan: retention', () => {
  it('drops the months whose whole range is older than the cutoff, and yearly partitions beside them', () => {
    const existing = [
      ...yearlyEvents().filter((info) => info.name !== 'event_y2027'),
      ...['01', '02', '03', '04', '05'].map((month, index) =>
        partition('event', `event_y2027m${month}`, `2027-${month}-01T00:00:00Z`, `2027-${String(index + 2).padStart(2, '0')}-01T00:00:00Z`),
      ),
    ];
    const plan = planPartitions(
      input(existing),
      settings({ event_partition_interval: 'month', partitions_ahead_months: 2, event_retention_days: 10 }),
      new Date('2027-03-15T00:00:00Z'),
    );
    // Cutoff 2027-03-05: January and February go, March (partly younger) stays.
    expect(eventNames(plan).drop).toEqual([
      'event_y2020',
      'event_y2021',
      'event_y2022',
      'event_y2023',
      'event_y2024',
      'event_y2025',
      'event_y2026',
      'event_y2027m01',
      'event_y2027m02',
    ]);
  });
});
