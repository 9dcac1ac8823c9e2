import type { Command } from 'commander';
import type { ActionRunner } from '../action-runner.js';
import { buildContext, type GlobalOptions } from '../context.js';
import { withDatabase } from '../with-database.js';
import { collectStats } from '../../db/stats.js';
import { printJson, printLine } from '../output.js';
import { formatStats } from '../format-stats.js';
import { describeVerifier } from '../../nostr/schnorr.js';

export function registerStats(program: Command, run: ActionRunner): void {
  program
    .command('stats')
    .description('Counts of relays (by network and state), events, event-relay pairs and metadata records')
    .option('--json', 'print one JSON object')
    .action((options: { json?: boolean }) =>
      run(async () => {
        await withDatabase(buildContext(program.opts<GlobalOptions>()), async (db) => {
          const stats = await collectStats(db);
          const verifier = describeVerifier();
          if (options.json) printJson({ database: db.kind, verifier: verifier.name, ...stats });
          else {
            for (const line of formatStats(db.kind, stats)) printLine(line);
            printLine(`verifier:          ${verifier.description}`);
          }
        });
      }),
    );
}
