import type { Command } from 'commander';
import type { ActionRunner } from '../action-runner.js';
import { buildContext, type GlobalOptions } from '../context.js';
import { UsageError } from '../errors.js';
import { printLine } from '../output.js';
import { runDemo } from '../../demo/demo.js';

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max)
      throw new UsageError(`${name}: expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
    return parsed;
  };
}

const DEMO_DESCRIPTION =
  'Run everything on this machine with no network: local relays full of generated events, a fresh embedded archive, ' +
  'every service, and the dashboard (its URL is printed)';

export function registerDemo(program: Command, run: ActionRunner): void {
  program
    .command('demo')
    .description(DEMO_DESCRIPTION)
    .option('--relays <n>', 'local relays to start (2-20)', integer('--relays', 2, 20), 5)
    .option('--events <n>', 'generated events per relay (50-20000)', integer('--events', 50, 20_000), 600)
    .option('--port <port>', 'dashboard port (0: any free port)', integer('--port', 0, 65_535), 0)
    .option('--data-dir <dir>', 'keep the demo archive in this directory (default: a temporary one, removed at exit)')
    .action((options: { relays: number; events: number; port: number; dataDir?: string }) =>
      run(async () => {
        const globals = program.opts<GlobalOptions>();
        const context = buildContext(globals, { 'log.level': globals.logLevel ?? 'warn' });
        const result = await runDemo({
          relays: options.relays,
          eventsPerRelay: options.events,
          port: options.port,
          dataDir: options.dataDir,
          logLevel: globals.logLevel ?? 'warn',
          logger: context.logger,
          onReady: ({ dashboardUrl, relayUrls }) => {
            printLine(`bigbrotr demo: ${relayUrls.length} local relays (${relayUrls.join(', ')}); only the first is seeded.`);
            printLine(`dashboard: ${dashboardUrl}`);
            printLine('Discovery, validation, monitoring and sync run now; reload the dashboard to watch. Ctrl-C stops the demo.');
          },
        });
        return result.failed.length > 0 ? 1 : 0;
      }),
    );
}
