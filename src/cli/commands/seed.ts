import type { Command } from 'commander';
import type { ActionRunner } from '../action-runner.js';
import { buildContext, type GlobalOptions } from '../context.js';
import { UsageError } from '../errors.js';
import { withDatabase } from '../with-database.js';
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
        const context = buildContext(program.opts<GlobalOptions>());
        const { loaded, logger } = context;
        const file = options.file ?? loaded.config.seed.file;
        // Read the file before touching the database: a wrong path is bad usage (exit 2).
        let text: string | undefined;
        if (file !== undefined) {
          try {
            text = await readSeedFile(file);
          } catch (error) {
            if (error instanceof SeedFileError) throw new UsageError(error.message);
            throw error;
          }
        }
        await withDatabase(context, async (db) => {
          const result = await seedRelays(db, { file, text, maxUrlLength: loaded.config.relay_url.max_length, logger });
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
        });
      }),
    );
}
