import type { Command } from 'commander';
import type { ActionRunner } from '../main.js';
import { buildContext, type GlobalOptions } from '../context.js';
import { openDatabase } from '../../db/open.js';
import { migrate } from '../../db/migrate.js';
import { collectStats } from '../../db/stats.js';
import { printJson, printLine } from '../output.js';
import { formatStats } from '../format-stats.js';

export function registerStats(program: Command, run: ActionRunner): void {
  program
    .command('stats')
    .description('Counts of relays (by network and state), events, event-relay pairs and metadata records')
    .option('--json', 'print one JSON object')
    .action((options: { json?: boolean }) =>
      run(async () => {
        const { loaded, logger } = buildContext(program.opts<GlobalOptions>());
        const db = await openDatabase(loaded.config.database, logger);
        try {
          await migrate(db, { lockTimeoutMs: loaded.config.database.migrate_lock_timeout_ms, logger });
          const stats = await collectStats(db);
          if (options.json) printJson({ database: db.kind, ...stats });
          else for (const line of formatStats(db.kind, stats)) printLine(line);
        } finally {
          await db.close();
        }
      }),
    );
}
