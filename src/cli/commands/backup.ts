import type { Command } from 'commander';
import type { ActionRunner } from '../action-runner.js';
import { buildContext, type GlobalOptions } from '../context.js';
import { printJson, printLine } from '../output.js';
import { backupDatabase } from '../../db/backup.js';

const BACKUP_DESCRIPTION =
  'Back up the whole database to a file: PostgreSQL with pg_dump (custom format), ' +
  'the embedded database as a tarball of its data directory (docs/database.md)';

export function registerBackup(program: Command, run: ActionRunner): void {
  program
    .command('backup')
    .description(BACKUP_DESCRIPTION)
    .requiredOption('-o, --output <file>', 'file to write (replaced only once the backup is complete)')
    .option('--pg-bin-dir <dir>', 'directory of pg_dump (default: newest /usr/lib/postgresql/N/bin, then PATH)')
    .option('--json', 'print the result as JSON')
    .action((options: { output: string; pgBinDir?: string; json?: boolean }) =>
      run(async () => {
        const { loaded, logger } = buildContext(program.opts<GlobalOptions>());
        const result = await backupDatabase(loaded.config.database, options.output, {
          logger,
          ...(options.pgBinDir ? { pgBinDir: options.pgBinDir } : {}),
        });
        if (options.json) printJson(result);
        else
          printLine(
            `backup of the ${result.database === 'postgres' ? 'PostgreSQL' : 'embedded'} database written to ${result.file} ` +
              `(${result.bytes} bytes, ${result.format === 'pg_dump' ? 'pg_dump custom format' : 'PGlite data directory tarball'})`,
          );
      }),
    );
}
