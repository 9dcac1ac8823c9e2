import type { Command } from 'commander';
import { stringify as toYaml } from 'yaml';
import type { ActionRunner } from '../action-runner.js';
import { buildContext, type GlobalOptions } from '../context.js';
import { redactedConfig } from '../../config/show.js';
import { printJson, printLine } from '../output.js';
import { describeVerifier } from '../../nostr/schnorr.js';

export function registerConfig(program: Command, run: ActionRunner): void {
  const config = program.command('config').description('Check or print the effective configuration');

  config
    .command('check')
    .description('Validate the configuration (defaults, file, env vars, *_FILE secrets); exit 2 listing every problem')
    .action(() =>
      run(async () => {
        const { loaded } = buildContext(program.opts<GlobalOptions>());
        printLine(`configuration is valid${loaded.configFile ? ` (file ${loaded.configFile})` : ' (no config file)'}`);
        printLine(
          `database: ${loaded.config.database.url ? 'PostgreSQL (database.url)' : `embedded PGlite in ${loaded.config.database.data_dir}`}`,
        );
        const verifier = describeVerifier();
        printLine(`signature verifier: ${verifier.description}`);
        for (const reason of verifier.unavailable) printLine(`  not used: ${reason}`);
      }),
    );

  config
    .command('show')
    .description('Print the effective configuration with secrets redacted')
    .option('--json', 'print JSON instead of YAML')
    .option('--sources', 'also list where each non-default option came from')
    .action((options: { json?: boolean; sources?: boolean }) =>
      run(async () => {
        const { loaded } = buildContext(program.opts<GlobalOptions>());
        const shown = redactedConfig(loaded);
        const sources = Object.fromEntries([...loaded.sources.entries()].sort());
        if (options.json) {
          printJson(options.sources ? { config: shown, sources } : shown);
          return;
        }
        process.stdout.write(toYaml(shown));
        if (options.sources) {
          printLine('# sources of non-default options:');
          for (const [path, source] of Object.entries(sources)) printLine(`#   ${path}: ${source}`);
        }
      }),
    );
}
