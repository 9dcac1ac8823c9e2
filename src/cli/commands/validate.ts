import type { Command } from 'commander';
import type { ActionRunner } from '../action-runner.js';
import { buildContext, type GlobalOptions } from '../context.js';
import { withDatabase } from '../with-database.js';
import { printJson, printLine } from '../output.js';
import { runServiceUntilStopped } from '../service-mode.js';
import { createValidatorService, validateDue } from '../../services/validator/validator.js';

export function registerValidate(program: Command, run: ActionRunner): void {
  program
    .command('validate')
    .description('Probe candidate relays: those that answer like relays become active; refused or long-failing ones are retired')
    .option('--once', 'probe every candidate due now, then exit (without it: keep validating until SIGINT/SIGTERM)')
    .option('--json', 'with --once: print the outcome as JSON')
    .action((options: { once?: boolean; json?: boolean }) =>
      run(async () => {
        const context = buildContext(program.opts<GlobalOptions>());
        return withDatabase(context, async (db) => {
          if (!options.once) return runServiceUntilStopped(context, db, createValidatorService);
          const summary = await validateDue({ db, config: context.loaded.config, logger: context.logger });
          if (options.json) printJson(summary);
          else {
            printLine(
              `${summary.probed} candidate(s) probed: ${summary.promoted.length} active, ${summary.failed.length} failed, ` +
                `${summary.retired.length} retired, ${summary.refused.length} refused`,
            );
            for (const url of summary.promoted) printLine(`active: ${url}`);
            for (const failure of summary.failed) printLine(`failed (attempt ${failure.attempts}): ${failure.url}: ${failure.reason}`);
            for (const refusal of summary.refused) printLine(`refused (${refusal.reason}): ${refusal.url}`);
          }
          return 0;
        });
      }),
    );
}
