import type { Command } from 'commander';
import type { ActionRunner } from '../action-runner.js';
import { buildContext, type GlobalOptions } from '../context.js';
import { withDatabase } from '../with-database.js';
import { printJson, printLine } from '../output.js';
import { runServiceUntilStopped } from '../service-mode.js';
import { createFinderService, findOnce } from '../../services/finder/finder.js';

const FIND_DESCRIPTION =
  'Discover relays: scan newly archived events (NIP-65 lists, contact lists, relay hints, NIP-66), ' +
  'ask active relays for kinds 10002/30166, fetch external lists; add what passes screening as candidates';

export function registerFind(program: Command, run: ActionRunner): void {
  program
    .command('find')
    .description(FIND_DESCRIPTION)
    .option('--once', 'scan what is new since the last scan, then exit (without it: keep scanning until SIGINT/SIGTERM)')
    .option('--json', 'with --once: print the outcome as JSON')
    .action((options: { once?: boolean; json?: boolean }) =>
      run(async () => {
        const context = buildContext(program.opts<GlobalOptions>());
        return withDatabase(context, async (db) => {
          if (!options.once) return runServiceUntilStopped(context, db, createFinderService);
          const summary = await findOnce({ db, config: context.loaded.config, logger: context.logger });
          if (options.json) printJson(summary);
          else {
            const refused = Object.entries(summary.refused)
              .map(([reason, count]) => `${count} ${reason}`)
              .join(', ');
            printLine(
              `${summary.scanned} archived event(s) scanned, ${summary.relaysAsked} relay(s) asked, ` +
                `${summary.listsFetched} list(s) fetched: ` +
                `${summary.newCandidates} new candidate relay(s), ${summary.revived} revived${refused ? `; refused: ${refused}` : ''}`,
            );
            for (const [source, count] of Object.entries(summary.newBySource)) printLine(`  new from ${source}: ${count}`);
            for (const failure of summary.errors) printLine(`  not read: ${failure.source}: ${failure.error}`);
          }
          return 0;
        });
      }),
    );
}
