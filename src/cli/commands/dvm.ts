import type { Command } from 'commander';
import type { ActionRunner } from '../action-runner.js';
import { buildContext, type GlobalOptions } from '../context.js';
import { withDatabase } from '../with-database.js';
import { runServiceUntilStopped } from '../service-mode.js';
import { configuredRelays, createDvmService } from '../../services/dvm/dvm-service.js';

const DVM_DESCRIPTION =
  'Answer NIP-90 job requests about the archive on dvm.relays (needs identity.secret_key), ' +
  'until SIGINT/SIGTERM; job kinds in docs/nips.md';

export function registerDvm(program: Command, run: ActionRunner): void {
  program
    .command('dvm')
    .description(DVM_DESCRIPTION)
    .action(() =>
      run(async () => {
        const context = buildContext(program.opts<GlobalOptions>());
        configuredRelays(context.loaded.config);
        return withDatabase(context, (db) => runServiceUntilStopped(context, db, createDvmService));
      }),
    );
}
