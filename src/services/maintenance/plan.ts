/**
 * What a maintenance run should do to the partitions, computed from the existing partitions, the
 * rows stranded in `event_default`, the settings and the time (docs/maintenance.md). Pure: the dry
 * run and the real run compute the same plan from the same state.
 *
 * Rules: a planned partition never overlaps an existing one. A wanted range that existing
 * partitions cover whole is skipped; one they cover in part is completed month by month (a month
 * partly covered, by a hand-made partition, is left alone with a warning).
 */
import type { MaintenanceConfig } from '../../config/schema.js';
import type { PartitionInfo, PartitionedTable } from '../../db/maintenance.js';

const DAY_SECONDS = 86_400;

/** Rows in event_default dated before this (2020-01-01, where migration 0001's partitions start) stay there. */
export const STRANDED_FLOOR_SECONDS = Date.UTC(2020, 0, 1) / 1000;

/** With monthly event partitions, a partition of another range holding more rows than this is not replaced. */
export const SPLIT_MAX_ROWS = 10_000;

export interface PlannedPartition {
  table: PartitionedTable;
  name: string;
  from: number;
  to: number;
  /** Rows of event_default this partition takes in when created (event partitions only). */
  strandedRows?: number;
}

/** An event partition of another range replaced, in one transaction, by monthly partitions. */
export interface PlannedSplit {
  partition: PartitionInfo;
  /** Rows it holds. */
  rows: number;
  into: PlannedPartition[];
}

export interface MaintenancePlan {
  split: PlannedSplit[];
  create: PlannedPartition[];
  drop: PartitionInfo[];
  warnings: string[];
}

/** Rows of event_default per UTC month (start in unix seconds), within `strandedScanRange`. */
export interface StrandedMonth {
  monthStart: number;
  rows: number;
}

export interface PlanInput {
  existing: Record<PartitionedTable, PartitionInfo[]>;
  stranded: StrandedMonth[];
  /** Rows of the split candidates (`splitCandidates`), counted up to `splitMaxRows` + 1; a missing one is not split. */
  candidateRows: ReadonlyMap<string, number>;
  /** A split candidate holding more rows keeps its range (SPLIT_MAX_ROWS; tests use less). */
  splitMaxRows: number;
}

interface Range {
  from: number;
  to: number;
}

interface Occupied extends Range {
  name: string;
}

function monthStart(year: number, month: number): number {
  return Date.UTC(year, month, 1) / 1000;
}

function addMonths(seconds: number, months: number): number {
  const date = new Date(seconds * 1000);
  return monthStart(date.getUTCFullYear(), date.getUTCMonth() + months);
}

function isMonthStart(seconds: number): boolean {
  return addMonths(seconds, 0) === seconds;
}

function monthsOf(range: Range): Range[] {
  const months: Range[] = [];
  for (let from = range.from; from < range.to; from = addMonths(from, 1)) months.push({ from, to: addMonths(from, 1) });
  return months;
}

export function iso(seconds: number | null): string | null {
  return seconds === null ? null : new Date(seconds * 1000).toISOString();
}

export function monthPartitionName(table: PartitionedTable, from: number): string {
  const date = new Date(from * 1000);
  return `${table}_y${date.getUTCFullYear()}m${String(date.getUTCMonth() + 1).padStart(2, '0')}`;
}

export function yearPartitionName(table: PartitionedTable, from: number): string {
  return `${table}_y${new Date(from * 1000).getUTCFullYear()}`;
}

function isOneMonth(range: Range): boolean {
  return isMonthStart(range.from) && addMonths(range.from, 1) === range.to;
}

function occupied(partitions: PartitionInfo[]): Occupied[] {
  return partitions
    .filter((info) => !info.isDefault)
    .map((info) => ({ name: info.name, from: info.from ?? -Infinity, to: info.to ?? Infinity }));
}

/** The first month of the current one and the end (exclusive) of the last month created ahead. */
function aheadWindow(settings: MaintenanceConfig, now: Date): Range {
  const from = monthStart(now.getUTCFullYear(), now.getUTCMonth());
  return { from, to: addMonths(from, settings.partitions_ahead_months + 1) };
}

/** The event years created ahead with yearly partitions: this one, the next, and any the months ahead reach. */
function aheadYears(settings: MaintenanceConfig, now: Date): Range[] {
  const year = now.getUTCFullYear();
  const window = aheadWindow(settings, now);
  const lastYear = Math.max(year + 1, new Date((window.to - 1) * 1000).getUTCFullYear());
  const years: Range[] = [];
  for (let y = year; y <= lastYear; y += 1) years.push({ from: monthStart(y, 0), to: monthStart(y + 1, 0) });
  return years;
}

/**
 * The range of event_default scanned for stranded rows: from 2020 to the end of the last event
 * partition created ahead. Rows outside it (1970, far future: they exist in the wild) stay in the
 * default partition, so that odd timestamps cannot make the maintenance create partition after
 * partition.
 */
export function strandedScanRange(settings: MaintenanceConfig, now: Date): Range {
  const to =
    settings.event_partition_interval === 'month'
      ? aheadWindow(settings, now).to
      : (aheadYears(settings, now).at(-1)?.to ?? aheadWindow(settings, now).to);
  return { from: STRANDED_FLOOR_SECONDS, to };
}

/**
 * With monthly event partitions: the existing event partitions of another (month-aligned) range that
 * reach into the months created ahead. They are replaced by monthly partitions when they hold at
 * most SPLIT_MAX_ROWS rows (the yearly partitions of migration 0001 before events arrive).
 */
export function splitCandidates(partitions: PartitionInfo[], settings: MaintenanceConfig, now: Date): PartitionInfo[] {
  if (settings.event_partition_interval !== 'month') return [];
  const window = aheadWindow(settings, now);
  return partitions.filter(
    (info): info is PartitionInfo & { from: number; to: number } =>
      !info.isDefault &&
      info.from !== null &&
      info.to !== null &&
      isMonthStart(info.from) &&
      isMonthStart(info.to) &&
      !isOneMonth({ from: info.from, to: info.to }) &&
      info.from < window.to &&
      info.to > window.from,
  );
}

/** Plans partitions of one table so that none overlaps another; remembers what it planned. */
class Planner {
  readonly planned: PlannedPartition[] = [];

  constructor(
    private readonly table: PartitionedTable,
    private readonly taken: Occupied[],
    private readonly names: Map<string, Range>,
    private readonly warnings: string[],
  ) {}

  /** Plans `range` (named for its length: a year or a month), or its uncovered months when partly covered. */
  want(range: Range, kind: 'year' | 'month'): void {
    const overlapping = this.taken.filter((other) => other.from < range.to && other.to > range.from);
    if (overlapping.length === 0) {
      this.add(range, kind === 'year' ? yearPartitionName(this.table, range.from) : monthPartitionName(this.table, range.from));
      return;
    }
    if (overlapping.some((other) => other.from <= range.from && other.to >= range.to)) return;
    if (kind === 'year') {
      for (const month of monthsOf(range)) this.want(month, 'month');
      return;
    }
    const name = monthPartitionName(this.table, range.from);
    this.warnings.push(
      `${name} not created: ${overlapping.map((other) => other.name).join(', ')} ` +
        `already cover(s) part of [${iso(range.from)}, ${iso(range.to)})`,
    );
  }

  /** Marks a name as taken by a partition created elsewhere in the plan. */
  reserve(partition: PlannedPartition): void {
    this.names.set(partition.name, { from: partition.from, to: partition.to });
  }

  private add(range: Range, name: string): void {
    const existing = this.names.get(name);
    if (existing !== undefined) {
      if (existing.from !== range.from || existing.to !== range.to)
        this.warnings.push(`${name} not created: a partition of that name has another range`);
      return;
    }
    const partition: PlannedPartition = { table: this.table, name, from: range.from, to: range.to };
    this.planned.push(partition);
    this.taken.push({ name, ...range });
    this.names.set(name, range);
  }
}

function namesOf(partitions: PartitionInfo[]): Map<string, Range> {
  return new Map(partitions.map((info) => [info.name, { from: info.from ?? -Infinity, to: info.to ?? Infinity }]));
}

/**
 * event, monthly: partitions of another range reaching the months ahead give way to months when
 * small. Their months up to the end of the window are created in the same transaction, the past
 * ones included, so nothing they held is left uncovered.
 */
function planSplits(input: PlanInput, settings: MaintenanceConfig, now: Date, window: Range): PlannedSplit[] {
  const eventNames = namesOf(input.existing.event);
  const split: PlannedSplit[] = [];
  for (const candidate of splitCandidates(input.existing.event, settings, now)) {
    const rows = input.candidateRows.get(candidate.name);
    if (rows === undefined || rows > input.splitMaxRows || candidate.from === null || candidate.to === null) continue;
    const months = monthsOf({ from: candidate.from, to: Math.min(candidate.to, window.to) });
    if (months.some((month) => eventNames.has(monthPartitionName('event', month.from)))) continue;
    split.push({
      partition: candidate,
      rows,
      into: months.map((month) => ({ table: 'event', name: monthPartitionName('event', month.from), ...month })),
    });
  }
  return split;
}

/**
 * event: the default partition kept small. Rows stranded there (dated where no partition existed)
 * get their partition when dated from 2020 to the end of the partitions ahead, unless retention
 * would drop that partition at once.
 */
function wantStrandedPartitions(events: Planner, input: PlanInput, settings: MaintenanceConfig, now: Date, eventCutoff: number): void {
  const scan = strandedScanRange(settings, now);
  for (const { monthStart: start } of input.stranded) {
    if (start < scan.from || start >= scan.to) continue;
    const date = new Date(start * 1000);
    const range =
      settings.event_partition_interval === 'month'
        ? { from: start, to: addMonths(start, 1) }
        : { from: monthStart(date.getUTCFullYear(), 0), to: monthStart(date.getUTCFullYear() + 1, 0) };
    if (range.to <= eventCutoff) continue;
    events.want(range, settings.event_partition_interval);
  }
}

/** Notes on each event partition planned the rows of event_default it takes in. */
function countStrandedRows(partitions: PlannedPartition[], stranded: StrandedMonth[]): void {
  for (const partition of partitions) {
    const rows = stranded
      .filter((month) => month.monthStart >= partition.from && month.monthStart < partition.to)
      .reduce((sum, month) => sum + month.rows, 0);
    if (rows > 0) partition.strandedRows = rows;
  }
}

/** Retention: whole partitions whose whole range is older than the cutoff (a partition being split is not dropped). */
function planDrops(input: PlanInput, settings: MaintenanceConfig, nowSeconds: number, splitNames: Set<string>): PartitionInfo[] {
  const drop: PartitionInfo[] = [];
  for (const [table, days] of [
    ['event', settings.event_retention_days],
    ['relay_check', settings.check_retention_days],
  ] as const) {
    if (days === 0) continue;
    const cutoff = nowSeconds - days * DAY_SECONDS;
    for (const info of input.existing[table]) {
      if (!info.isDefault && info.to !== null && info.to <= cutoff && !splitNames.has(info.name)) drop.push(info);
    }
  }
  return drop;
}

export function planPartitions(input: PlanInput, settings: MaintenanceConfig, now: Date): MaintenancePlan {
  const warnings: string[] = [];
  const window = aheadWindow(settings, now);
  const nowSeconds = now.getTime() / 1000;
  const eventCutoff = settings.event_retention_days === 0 ? -Infinity : nowSeconds - settings.event_retention_days * DAY_SECONDS;

  // relay_check: the current month and the months ahead.
  const checks = new Planner('relay_check', occupied(input.existing.relay_check), namesOf(input.existing.relay_check), warnings);
  for (const month of monthsOf(window)) checks.want(month, 'month');

  const split = planSplits(input, settings, now, window);
  const splitNames = new Set(split.map((entry) => entry.partition.name));
  const remaining = input.existing.event.filter((info) => !splitNames.has(info.name));
  const events = new Planner('event', [...occupied(remaining), ...split.flatMap((entry) => entry.into)], namesOf(remaining), warnings);
  for (const entry of split) for (const month of entry.into) events.reserve(month);

  // event: partitions ahead.
  if (settings.event_partition_interval === 'month') {
    for (const month of monthsOf(window)) events.want(month, 'month');
  } else {
    for (const year of aheadYears(settings, now)) events.want(year, settings.event_partition_interval);
  }
  wantStrandedPartitions(events, input, settings, now, eventCutoff);
  countStrandedRows([...split.flatMap((entry) => entry.into), ...events.planned], input.stranded);
  const drop = planDrops(input, settings, nowSeconds, splitNames);
  return { split, create: [...events.planned, ...checks.planned], drop, warnings };
}
