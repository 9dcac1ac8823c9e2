/** `bigbrotr maintenance` in words: the lines printed for a maintenance report (or a dry run's plan). */
import type { MaintenanceReport, PartitionAction } from '../services/maintenance/maintenance.js';

function describeRange(action: PartitionAction): string {
  if (action.from === null && action.to === null) return '(detached by an interrupted run)';
  const rows = action.estimatedRows === undefined ? '' : ` (~${action.estimatedRows} rows)`;
  return `[${action.from ?? '-infinity'}, ${action.to ?? 'infinity'})${rows}`;
}

function summaryLine(report: MaintenanceReport): string {
  const would = report.dryRun ? 'would ' : '';
  const counts = [
    `${would}create ${report.created.length} partition(s)`,
    `${would}drop ${report.dropped.length}`,
    `${would}remove ${report.orphanMetadata} orphan metadata document(s)`,
    ...(report.eventRelayRemoved === null ? [] : [`removed ${report.eventRelayRemoved} event_relay row(s)`]),
  ];
  return `maintenance${report.dryRun ? ' (dry run, nothing changed)' : ''}: ${counts.join(', ')}`;
}

/** Every line of the report, in the order printed. */
export function maintenanceReportLines(report: MaintenanceReport): string[] {
  const done = (verb: string, past: string) => (report.dryRun ? `would ${verb}` : past);
  const lines = [summaryLine(report)];
  for (const action of report.split)
    lines.push(`${done('replace', 'replaced')} ${action.name} ${describeRange(action)} (${action.rows} rows) by ${action.into.join(', ')}`);
  for (const action of report.created) {
    const stranded = action.strandedRows ? `, taking ${action.strandedRows} row(s) out of the default partition` : '';
    lines.push(`${done('create', 'created')} ${action.name} ${describeRange(action)}${stranded}`);
  }
  for (const action of report.dropped) lines.push(`${done('drop', 'dropped')} ${action.name} ${describeRange(action)}`);
  const defaults = report.defaultPartitionRows;
  lines.push(
    `rows in the default partitions${report.dryRun ? ' now' : ''}: ` +
      `event_default ${defaults.event}, relay_check_default ${defaults.relay_check}`,
  );
  if (report.analyzed.length > 0) lines.push(`${done('analyze', 'analyzed')}: ${report.analyzed.join(', ')}`);
  for (const warning of report.warnings) lines.push(`warning: ${warning}`);
  if (report.interrupted) lines.push('interrupted: the next run finishes the job');
  return lines;
}
