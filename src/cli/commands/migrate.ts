import type { Command } from 'commander';
import type { ActionRunner } from '../action-runner.js';
import { buildContext, type GlobalOptions } from '../context.js';
import { withDatabase } from '../with-database.js';
import { printJson, printLine } from '../output.js';

export function registerMigrate(program: Command, run: ActionRunner): void {
  program
    .command('migrate')
    .description('Create or upgrade the database schema (safe to run twice, and from several processes at once)')
    .option('--json', 'print the result as JSON')
    .action((options: { json?: boolean }) =>
      run(async () => {
        await withDatabase(buildContext(program.opts<GlobalOptions>()), async (db, result) => {
          if (options.json) printJson({ database: db.kind, ...result });
          else if (result.applied.length === 0) printLine(`schema is up to date (${result.current}) on ${db.kind}`);
          else printLine(`applied ${result.applied.length} migration(s) on ${db.kind}: ${result.applied.join(', ')}`);
        });
      }),
    );
}
