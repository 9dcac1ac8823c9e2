import { describe, expect, it } from 'vitest';
import { createdAction, emptyReport, rangeAction } from '../../src/services/maintenance/report.js';

const JUNE_2031 = Date.UTC(2031, 5, 1) / 1000;
const JULY_2031 = Date.UTC(2031, 6, 1) / 1000;

describe('maintenance report', () => {
  it('starts empty, planned for the time given; a dry run does not count event_relay rows', () => {
    const now = new Date('2031-06-15T12:00:00Z');
    const real = emptyReport(false, now);
    expect(real.at).toBe('2031-06-15T12:00:00.000Z');
    expect(real.eventRelayRemoved).toBe(0);
    expect(real.created).toEqual([]);
    expect(real.defaultPartitionRows).toEqual({ event: 0, relay_check: 0 });
    expect(emptyReport(true, now).eventRelayRemoved).toBeNull();
    // Each report is its own: filling one does not change the next.
    real.warnings.push('x');
    expect(emptyReport(false, now).warnings).toEqual([]);
  });

  it('gives ranges as ISO timestamps, unbounded ends as null', () => {
    expect(rangeAction({ table: 'event', name: 'event_y2031m06', from: JUNE_2031, to: JULY_2031 })).toEqual({
      table: 'event',
      name: 'event_y2031m06',
      from: '2031-06-01T00:00:00.000Z',
      to: '2031-07-01T00:00:00.000Z',
    });
    expect(rangeAction({ table: 'relay_check', name: 'old', from: null, to: JUNE_2031 }).from).toBeNull();
  });

  it('names the stranded rows a created partition takes in only when it takes some', () => {
    const month = { table: 'event' as const, name: 'event_y2031m06', from: JUNE_2031, to: JULY_2031 };
    expect(createdAction(month)).not.toHaveProperty('strandedRows');
    expect(createdAction({ ...month, strandedRows: 3 })).toMatchObject({ from: '2031-06-01T00:00:00.000Z', strandedRows: 3 });
  });
});
