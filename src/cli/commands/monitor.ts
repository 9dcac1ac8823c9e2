import type { Command } from 'commander';
import type { ActionRunner } from '../action-runner.js';
import { buildContext, type GlobalOptions } from '../context.js';
import { UsageError } from '../errors.js';
import { withDatabase } from '../with-database.js';
import { printJson, printLine } from '../output.js';
import { normalizeRelayUrl } from '../../nostr/relay-url.js';
import { runServiceUntilStopped } from '../service-mode.js';
import { createMonitorService, monitorOnce, type MonitorPassSummary } from '../../services/monitor/monitor.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * The --relay values, normalised (the monitor takes them as they are stored); a bad one, or one longer
 * than relay_url.max_length, is a usage error naming it.
 */
function relayOptionUrls(inputs: string[], maxLength: number): string[] {
  return inputs.map((input) => {
    const normalized = normalizeRelayUrl(input, { maxLength });
    if (!normalized.ok) throw new UsageError(`--relay ${input}: ${normalized.message}`);
    return normalized.url;
  });
}

/** A progress line on stderr at most every `intervalMs`: relays checked, up, down, rate. */
function progressLine(intervalMs = 2_000): (summary: MonitorPassSummary) => void {
  const started = Date.now();
  let printedAt = 0;
  return (summary) => {
    const now = Date.now();
    if (now - printedAt < intervalMs) return;
    printedAt = now;
    const perMinute = Math.round((summary.checked / Math.max(0.001, (now - started) / 1000)) * 60);
    process.stderr.write(`monitor: ${summary.checked} relays checked (${summary.up} up, ${summary.down} down), ${perMinute}/min\n`);
  };
}

export function registerMonitor(program: Command, run: ActionRunner): void {
  program
    .command('monitor')
    .description(
      'Check relays (NIP-11, NIP-66 open/read/write, DNS, TLS, geo) and store the results; publish NIP-66 events when configured',
    )
    .option('--once', 'one pass over the relays due now, then exit (without it: keep monitoring until SIGINT/SIGTERM)')
    .option(
      '-r, --relay <url>',
      'with --once: check this relay now, due or not (repeatable); named relays are trusted even on private addresses',
      collect,
      [],
    )
    .option('--json', 'with --once: print the outcome as JSON')
    .option('--progress', 'with --once: a progress line on stderr every 2 s (default when stderr is a terminal)')
    .option('--no-progress', 'with --once: no progress lines')
    .action((options: { once?: boolean; relay: string[]; json?: boolean; progress?: boolean }) =>
      run(async () => {
        if (!options.once && options.relay.length)
          throw new UsageError('monitor: --relay needs --once (the continuous service checks every active relay)');
        const context = buildContext(program.opts<GlobalOptions>());
        const urls = relayOptionUrls(options.relay, context.loaded.config.relay_url.max_length);
        return withDatabase(context, async (db) => {
          if (!options.once) return runServiceUntilStopped(context, db, createMonitorService);
          const showProgress = options.progress ?? process.stderr.isTTY;
          const summary = await monitorOnce({
            db,
            config: context.loaded.config,
            logger: context.logger,
            urls: urls.length ? urls : undefined,
            onRelayDone: showProgress ? progressLine() : undefined,
          });
          if (options.json) printJson(summary);
          else {
            const publishing =
              summary.published + summary.publishFailures
                ? `; ${summary.published} NIP-66 event(s) published, ${summary.publishFailures} not accepted`
                : '';
            printLine(`${summary.checked} relay(s) checked: ${summary.up} up, ${summary.down} down${publishing}`);
            for (const relay of summary.relays)
              printLine(`${relay.up ? 'up  ' : 'down'} ${relay.url}${relay.reason ? `: ${relay.reason}` : ''}`);
            for (const skipped of summary.skipped) printLine(`skipped (${skipped.reason}): ${skipped.url}`);
          }
          return 0;
        });
      }),
    );
}
