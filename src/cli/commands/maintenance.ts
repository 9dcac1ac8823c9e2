import type { Command } from 'commander';
import type { ActionRunner } from '../action-runner.js';
import { buildContext, type GlobalOptions } from '../context.js';
import { withDatabase } from '../with-database.js';
import { printJson, printLine } from '../output.js';
import { runMaintenance, type PartitionAction } from '../../services/maintenance/maintenance.js';

function describeRange(action: PartitionAction): string {
  if (action.from === null && action.to === null) return '(detached by an interrupted run)';
  const rows = action.estimatedRows === undefined ? '' : ` (~${action.estimatedRows} rows)`;
  return `[${action.from ?? '-infinity'}, ${action.to ?? 'infinity'})${rows}`;
}

export function registerMaintenance(program: Command, run: ActionRunner): void {
  program
    .command('maintenance')
    .description(
      'Run the maintenance once: create partitions ahead of time (and for rows stranded in the default partition), drop partitions past their retention, remove orphan metadata, ANALYZE what changed; reports the rows left in the default partitions',
    )
    .option('--dry-run', 'print what would be done and change nothing')
    .option('--json', 'print the report as JSON')
    .action((options: { dryRun?: boolean; json?: boolean }) =>
      run(async () => {
        const context = buildContext(program.opts<GlobalOptions>());
        return withDatabase(context, async (db) => {
          const report = await runMaintenance({
            db,
            config: context.loaded.config,
            logger: context.logger,
            dryRun: options.dryRun === true,
          });
          if (report === undefined) throw new Error('maintenance is running in another process right now (lease held); try again later');
          if (options.json) {
            printJson(report);
            return 0;
          }
          const would = report.dryRun ? 'would ' : '';
          printLine(
            `maintenance${report.dryRun ? ' (dry run, nothing changed)' : ''}: ${would}create ${report.created.length} partition(s), ${would}drop ${report.dropped.length}, ${would}remove ${report.orphanMetadata} orphan metadata document(s)` +
              (report.eventRelayRemoved === null ? '' : `, removed ${report.eventRelayRemoved} event_relay row(s)`),
          );
          for (const action of report.split)
            printLine(
              `${report.dryRun ? 'would replace' : 'replaced'} ${action.name} ${describeRange(action)} (${action.rows} rows) by ${action.into.join(', ')}`,
            );
          for (const action of report.created)
            printLine(
              `${report.dryRun ? 'would create' : 'created'} ${action.name} ${describeRange(action)}${action.strandedRows ? `, taking ${action.strandedRows} row(s) out of the default partition` : ''}`,
            );
          for (const action of report.dropped)
            printLine(`${report.dryRun ? 'would drop' : 'dropped'} ${action.name} ${describeRange(action)}`);
          printLine(
            `rows in the default partitions${report.dryRun ? ' now' : ''}: event_default ${report.defaultPartitionRows.event}, relay_check_default ${report.defaultPartitionRows.relay_check}`,
          );
          if (report.analyzed.length > 0) printLine(`${report.dryRun ? 'would analyze' : 'analyzed'}: ${report.analyzed.join(', ')}`);
          for (const warning of report.warnings) printLine(`warning: ${warning}`);
          if (report.interrupted) printLine('interrupted: the next run finishes the job');
          return 0;
        });
      }),
    );
}
