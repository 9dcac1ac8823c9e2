import type { Command } from 'commander';
import type { ActionRunner } from '../action-runner.js';
import { buildContext, type GlobalOptions } from '../context.js';
import { runAll } from '../../run-all.js';

export function registerRun(program: Command, run: ActionRunner): void {
  program
    .command('run')
    .description('Run every service (migrate, seed, synchronizer, metrics and health) until SIGINT/SIGTERM')
    .option('--no-seed', 'do not load the seed list at start-up')
    .action((options: { seed: boolean }) =>
      run(async () => {
        const context = buildContext(program.opts<GlobalOptions>(), options.seed ? {} : { 'seed.on_start': false });
        const result = await runAll({ loaded: context.loaded, logger: context.logger });
        return result.failed.length > 0 ? 1 : 0;
      }),
    );
}
