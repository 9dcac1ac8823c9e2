/**
 * `bigbrotr <command> [options]`. Parses arguments and maps outcomes to exit codes:
 * 0 success, 1 runtime failure, 2 bad usage or bad config. The only module that knows about argv.
 */
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/errors.js';
import { UsageError } from './errors.js';
import { printError } from './output.js';
import { registerMigrate } from './commands/migrate.js';
import { registerSeed } from './commands/seed.js';
import { registerStats } from './commands/stats.js';
import { registerConfig } from './commands/config.js';
import { registerRun } from './commands/run.js';
import { registerSync } from './commands/sync.js';
import { registerValidate } from './commands/validate.js';
import { registerFind } from './commands/find.js';
import { registerMonitor } from './commands/monitor.js';
import { registerDvm } from './commands/dvm.js';
import { registerMaintenance } from './commands/maintenance.js';
import { registerServe } from './commands/serve.js';
import { registerDemo } from './commands/demo.js';
import { registerRoles } from './commands/roles.js';
import { registerBackup } from './commands/backup.js';
import { registerRestore } from './commands/restore.js';
import { registerTransfer } from './commands/transfer.js';
import { packageVersion } from '../package-root.js';
import { shutdownTracing } from '../observability/tracing.js';
import type { ActionRunner } from './action-runner.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Runs a command body and turns what it throws into an exit code and a message on stderr. */

export function buildProgram(run: ActionRunner): Command {
  const program = new Command('bigbrotr')
    .description('Watches and archives the Nostr network: relays, their health, and every event they hold.')
    .version(packageVersion(), '-V, --version')
    .option('-c, --config <path>', 'YAML config file (default: $BIGBROTR_CONFIG)')
    .option('--log-level <level>', 'override log.level (fatal, error, warn, info, debug, trace, silent)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (text) => printError(text.trimEnd()) });
  registerMigrate(program, run);
  registerSeed(program, run);
  registerStats(program, run);
  registerConfig(program, run);
  registerSync(program, run);
  registerFind(program, run);
  registerValidate(program, run);
  registerMonitor(program, run);
  registerDvm(program, run);
  registerMaintenance(program, run);
  registerServe(program, run);
  registerDemo(program, run);
  registerRoles(program, run);
  registerBackup(program, run);
  registerRestore(program, run);
  registerTransfer(program, run);
  registerRun(program, run);
  for (const command of program.commands) {
    command.exitOverride();
    for (const sub of command.commands) sub.exitOverride();
  }
  return program;
}

function exitCodeFor(error: unknown): number {
  if (error instanceof ConfigError || error instanceof UsageError) return EXIT_USAGE;
  return EXIT_FAILURE;
}

export async function main(argv: string[]): Promise<number> {
  let exitCode = EXIT_OK;
  const run: ActionRunner = async (body) => {
    try {
      const code = await body();
      exitCode = typeof code === 'number' ? code : EXIT_OK;
    } catch (error) {
      exitCode = exitCodeFor(error);
      const message = error instanceof Error ? error.message : String(error);
      printError(exitCode === EXIT_FAILURE ? `bigbrotr: error: ${message}` : `bigbrotr: ${message}`);
    }
  };
  const program = buildProgram(run);
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with code 0; every other parse problem is bad usage.
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT_OK;
      if (error.code === 'commander.executeSubCommandAsync') return error.exitCode;
      return EXIT_USAGE;
    }
    printError(`bigbrotr: error: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT_FAILURE;
  } finally {
    // Export the spans still buffered (a no-op when tracing is off).
    await shutdownTracing();
  }
  return exitCode;
}
