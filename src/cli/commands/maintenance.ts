import type { Command } from 'commander';
import type { ActionRunner } from '../action-runner.js';
import { buildContext, type GlobalOptions } from '../context.js';
import { withDatabase } from '../with-database.js';
import { printJson, printLine } from '../output.js';
import { runMaintenance } from '../../services/maintenance/maintenance.js';
import { maintenanceReportLines } from '../maintenance-report.js';

const MAINTENANCE_DESCRIPTION =
  'Run the maintenance once: create partitions ahead of time (and for rows stranded in the default partition), ' +
  'drop partitions past their retention, remove orphan metadata, ANALYZE what changed; ' +
  'reports the rows left in the default partitions';

export function registerMaintenance(program: Command, run: ActionRunner): void {
  program
    .command('maintenance')
    .description(MAINTENANCE_DESCRIPTION)
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
          for (const line of maintenanceReportLines(report)) printLine(line);
          return 0;
        });
      }),
    );
}
