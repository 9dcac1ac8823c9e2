import type { Command } from 'commander';
import type { ActionRunner } from '../main.js';
import { buildContext, type GlobalOptions } from '../context.js';
import { openDatabase } from '../../db/open.js';
import { migrate } from '../../db/migrate.js';
import { printJson, printLine } from '../output.js';

export function registerMigrate(program: Command, run: ActionRunner): void {
  program
    .command('migrate')
    .description('Create or upgrade the database schema (safe to run twice, and from several processes at once)')
    .option('--json', 'print the result as JSON')
    .action((options: { json?: boolean }) =>
      run(async () => {
        const { loaded, logger } = buildContext(program.opts<GlobalOptions>());
        const db = await openDatabase(loaded.config.database, logger);
        try {
          const result = await migrate(db, { lockTimeoutMs: loaded.config.database.migrate_lock_timeout_ms, logger });
          if (options.json) printJson({ database: db.kind, ...result });
          else if (result.applied.length === 0) printLine(`schema is up to date (${result.current}) on ${db.kind}`);
          else printLine(`applied ${result.applied.length} migration(s) on ${db.kind}: ${result.applied.join(', ')}`);
        } finally {
          await db.close();
        }
      }),
    );
}
