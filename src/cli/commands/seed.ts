import type { Command } from 'commander';
import type { ActionRunner } from '../main.js';
import { buildContext, type GlobalOptions } from '../context.js';
import { UsageError } from '../errors.js';
import { openDatabase } from '../../db/open.js';
import { migrate } from '../../db/migrate.js';
import { readSeedFile, SeedFileError, seedRelays } from '../../services/seeder.js';
import { printError, printJson, printLine } from '../output.js';

export function registerSeed(program: Command, run: ActionRunner): void {
  program
    .command('seed')
    .description('Load relay URLs (one per line, # comments) into the relay table as candidates')
    .option('-f, --file <path>', 'seed file (default: seed.file, else the list shipped with bigbrotr)')
    .option('--json', 'print the result as JSON')
    .action((options: { file?: string; json?: boolean }) =>
      run(async () => {
        const { loaded, logger } = buildContext(program.opts<GlobalOptions>());
        const file = options.file ?? loaded.config.seed.file;
        // Check the file before touching the database: a wrong path is bad usage (exit 2).
        if (file !== undefined) {
          try {
            await readSeedFile(file);
          } catch (error) {
            if (error instanceof SeedFileError) throw new UsageError(error.message);
            throw error;
          }
        }
        const db = await openDatabase(loaded.config.database, logger);
        try {
          await migrate(db, { lockTimeoutMs: loaded.config.database.migrate_lock_timeout_ms, logger });
          const result = await seedRelays(db, { file, maxUrlLength: loaded.config.relay_url.max_length, logger });
          if (options.json) {
            printJson(result);
            return;
          }
          for (const problem of result.problems) printError(`${result.file}:${problem.line}: ${problem.reason}: ${problem.text}`);
          printLine(
            `${result.file}: ${result.valid} valid relay URL(s), ${result.inserted} new, ${result.alreadyKnown} already known` +
              `${result.duplicatesInFile ? `, ${result.duplicatesInFile} duplicate line(s)` : ''}` +
              `${result.problems.length ? `, ${result.problems.length} bad line(s)` : ''}`,
          );
        } finally {
          await db.close();
        }
      }),
    );
}
