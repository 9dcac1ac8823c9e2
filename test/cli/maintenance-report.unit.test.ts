/** The lines `bigbrotr maintenance` prints for a run and for a dry run. */
import { describe, expect, it } from 'vitest';
import { maintenanceReportLines } from '../../src/cli/maintenance-report.js';
import type { MaintenanceReport } from '../../src/services/maintenance/maintenance.js';

function report(overrides: Partial<MaintenanceReport> = {}): MaintenanceReport {
  return {
    dryRun: false,
    at: '2026-12-04T00:00:00.000Z',
    created: [],
    split: [],
    dropped: [],
    eventRelayRemoved: null,
    orphanMetadata: 0,
    defaultPartitionRows: { event: 0, relay_check: 0 },
    analyzed: [],
    warnings: [],
    interrupted: false,
    durationMs: 5,
    ...overrides,
  };
}

describe('maintenanceReportLines', () => {
  it('prints what a run did, action by action', () => {
    const lines = maintenanceReportLines(
      report({
        created: [
          { table: 'event', name: 'event_2027_01', from: '2027-01-01', to: '2027-02-01', strandedRows: 3 },
          { table: 'relay_check', name: 'relay_check_2027_01', from: '2027-01-01', to: '2027-02-01' },
        ],
        split: [
          { table: 'event', name: 'event_2026', from: '2026-01-01', to: '2027-01-01', rows: 40, into: ['event_2026_01', 'event_2026_02'] },
        ],
        dropped: [{ table: 'event', name: 'event_2019', from: null, to: '2020-01-01', estimatedRows: 12 }],
        eventRelayRemoved: 7,
        orphanMetadata: 2,
        defaultPartitionRows: { event: 1, relay_check: 0 },
        analyzed: ['event', 'relay_check'],
        warnings: ['a custom partition overlaps event_2027_02'],
        interrupted: true,
      }),
    );
    expect(lines).toEqual([
      'maintenance: create 2 partition(s), drop 1, remove 2 orphan metadata document(s), removed 7 event_relay row(s)',
      'replaced event_2026 [2026-01-01, 2027-01-01) (40 rows) by event_2026_01, event_2026_02',
      'created event_2027_01 [2027-01-01, 2027-02-01), taking 3 row(s) out of the default partition',
      'created relay_check_2027_01 [2027-01-01, 2027-02-01)',
      'dropped event_2019 [-infinity, 2020-01-01) (~12 rows)',
      'rows in the default partitions: event_default 1, relay_check_default 0',
      'analyzed: event, relay_check',
      'warning: a custom partition overlaps event_2027_02',
      'interrupted: the next run finishes the job',
    ]);
  });

  it('says "would" in a dry run, and names a partition detached by an interrupted run', () => {
    const lines = maintenanceReportLines(
      report({
        dryRun: true,
        dropped: [{ table: 'event', name: 'event_old', from: null, to: null }],
        analyzed: ['event'],
      }),
    );
    expect(lines).toEqual([
      'maintenance (dry run, nothing changed): would create 0 partition(s), would drop 1, would remove 0 orphan metadata document(s)',
      'would drop event_old (detached by an interrupted run)',
      'rows in the default partitions now: event_default 0, relay_check_default 0',
      'would analyze: event',
    ]);
  });
});
