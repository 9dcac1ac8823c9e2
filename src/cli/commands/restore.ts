import type { Command } from 'commander';
import type { ActionRunner } from '../action-runner.js';
import { buildContext, type GlobalOptions } from '../context.js';
import { printJson, printLine } from '../output.js';
import { restoreDatabase } from '../../db/backup.js';

export function registerRestore(program: Command, run: ActionRunner): void {
  program
    .command('restore')
    .description(
      'Restore a file made by `bigbrotr backup` into the configured database, which must be empty unless --force (docs/database.md)',
    )
    .requiredOption('-i, --input <file>', 'backup file (pg_dump custom format, or a backup of the embedded database)')
    .option('--force', 'replace a non-empty target (PostgreSQL: drop every object in it first; embedded: replace the data directory)')
    .option(
      '--no-owner',
      'PostgreSQL: restore as the connecting role, without the original owners and grants (a server without those roles)',
    )
    .option('--pg-bin-dir <dir>', 'directory of pg_restore (default: newest /usr/lib/postgresql/N/bin, then PATH)')
    .option('--json', 'print the result as JSON')
    .action((options: { input: string; force?: boolean; owner: boolean; pgBinDir?: string; json?: boolean }) =>
      run(async () => {
        const { loaded, logger } = buildContext(program.opts<GlobalOptions>());
        const result = await restoreDatabase(loaded.config.database, options.input, {
          logger,
          force: options.force === true,
          noOwner: !options.owner,
          ...(options.pgBinDir ? { pgBinDir: options.pgBinDir } : {}),
        });
        if (options.json) printJson(result);
        else {
          printLine(
            `restored ${result.file} into the ${result.database === 'postgres' ? 'PostgreSQL' : 'embedded'} database` +
              `${result.replaced ? ' (replacing what it held)' : ''}; schema ${result.schema ?? '(no bigbrotr schema)'}`,
          );
        }
      }),
    );
}
