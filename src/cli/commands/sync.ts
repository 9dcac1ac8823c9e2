import type { Command } from 'commander';
import type { Config } from '../../config/schema.js';
import type { Database } from '../../db/database.js';
import { reachableNetworks } from '../../relay/overlay.js';
import type { ActionRunner } from '../action-runner.js';
import { buildContext, type CommandContext, type GlobalOptions } from '../context.js';
import { UsageError } from '../errors.js';
import { parseTime } from '../arguments.js';
import { withDatabase } from '../with-database.js';
import { printJson, printLine } from '../output.js';
import { normalizeRelayUrl, type NormalizedRelayUrl } from '../../nostr/relay-url.js';
import { getOrCreateRelayIds, listRelays, OPERATOR_SOURCES } from '../../db/relays.js';
import { createVerifyPool, verifyPoolOptions, type VerifyPool } from '../../verify/pool.js';
import type { PassProgress, RelaySyncResult } from '../../services/sync/relay-sync.js';
import { createProgressReporter, type ProgressReporter } from '../progress.js';
import { syncRelayWithRetries } from '../../services/sync/pass-runner.js';
import { passLogFields } from '../../services/sync/pass-outcome.js';
import { loadPriorityRelays } from '../../services/sync/priority-relays.js';
import { relayUrlFilter } from '../../relay/url-patterns.js';
import { relayLogger, type Logger } from '../../observability/logger.js';
import { runServiceUntilStopped } from '../service-mode.js';
import { createSyncService } from '../../services/sync/sync-service.js';
import { createByteBudget, type ByteBudget } from '../../services/sync/byte-budget.js';
import { errorMessage } from '../../error-message.js';
import { forEachBounded } from '../../services/work-pool.js';

/** One line per relay: what was stored, what it cost, and whether the pass proved its window. */
export function summaryLine(result: RelaySyncResult): string {
  const { report } = result;
  const method = result.method === 'negentropy' ? 'NIP-77 negentropy' : 'REQ pagination';
  const parts = [
    `${result.stored} new events, ${result.newLinks} new relay links`,
    `${report.requests} requests in ${(report.elapsedMs / 1000).toFixed(1)} s (${method})`,
    report.complete ? 'complete' : `incomplete: ${report.incompleteReason ?? 'unknown'}; ${report.owed.windows} owed window(s)`,
  ];
  if (report.refusals > 0) parts.push(`${report.refusals} refused requests`);
  if (report.withheld > 0) parts.push(`${report.withheld} ids withheld by the relay`);
  if (report.stopped) parts.push(`stopped by its ${report.stopped === 'time-budget' ? 'time budget' : 'request bound'}`);
  const invalid = result.invalid;
  if (invalid.badId + invalid.badSig + invalid.malformed > 0)
    parts.push(`rejected ${invalid.badId} bad ids, ${invalid.badSig} bad signatures, ${invalid.malformed} malformed`);
  return `${result.relayUrl}: ${parts.join(', ')}`;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

interface SyncCommandOptions {
  once?: boolean;
  relay: string[];
  since?: string;
  until?: string;
  json?: boolean;
  progress?: boolean;
}

export function registerSync(program: Command, run: ActionRunner): void {
  program
    .command('sync')
    .description('Archive events from relays: every event once, verified, with the relays it was seen on')
    .option('--once', 'one pass over each relay up to now, then exit (without it: keep synchronising active relays until SIGINT/SIGTERM)')
    .option('-r, --relay <url>', 'only this relay (repeatable); named relays are trusted even on private addresses', collect, [])
    .option('--since <time>', 'oldest created_at to reach (unix seconds or ISO date)')
    .option('--until <time>', 'newest created_at to reach (unix seconds or ISO date)')
    .option('--json', 'print the per-relay results as JSON')
    .option('--progress', 'with --once: a progress line per relay on stderr every 2 s (default when stderr is a terminal)')
    .option('--no-progress', 'with --once: no progress lines')
    .action((options: SyncCommandOptions) =>
      run(async () => {
        if (!options.once) {
          if (options.relay.length || options.since || options.until)
            throw new UsageError('sync: --relay, --since and --until need --once (the continuous service works on active relays)');
          const context = buildContext(program.opts<GlobalOptions>());
          return withDatabase(context, (db) => runServiceUntilStopped(context, db, createSyncService));
        }
        const window = parseWindow(options);
        const named = parseNamedRelays(options.relay);
        const context = buildContext(program.opts<GlobalOptions>());
        return withDatabase(context, (db) => syncOnce(context, db, options, { window, named }));
      }),
    );
}

type NamedRelay = Extract<NormalizedRelayUrl, { ok: true }>;
interface SyncWindow {
  since: number | undefined;
  until: number | undefined;
}
interface RelayToSync {
  url: string;
  id: number;
  trusted: boolean;
}
interface SyncOutcomes {
  results: RelaySyncResult[];
  failures: { relay: string; error: string }[];
}

function parseWindow(options: SyncCommandOptions): SyncWindow {
  const since = options.since === undefined ? undefined : parseTime(options.since, '--since');
  const until = options.until === undefined ? undefined : parseTime(options.until, '--until');
  if (since !== undefined && until !== undefined && since > until) throw new UsageError('--since is after --until');
  return { since, until };
}

function parseNamedRelays(inputs: string[]): NamedRelay[] {
  return inputs.map((input) => {
    const normalized = normalizeRelayUrl(input);
    if (!normalized.ok) throw new UsageError(`--relay ${input}: ${normalized.message}`);
    return normalized;
  });
}

/** `sync --once`: one pass over each relay, `sync.concurrency` at a time; exit 1 only when every pass failed. */
async function syncOnce(
  context: CommandContext,
  db: Database,
  options: SyncCommandOptions,
  request: { window: SyncWindow; named: NamedRelay[] },
): Promise<number> {
  const { loaded, logger } = context;
  const config = loaded.config;
  const relays = await relaysToSync(db, config, request.named);
  if (relays.length === 0) {
    logger.warn('no active relays to synchronise (candidates become active through validation); name relays with --relay');
    return 0;
  }
  const pool = await createVerifyPool(verifyPoolOptions(config));
  const budget = createByteBudget(config.sync.max_bytes_in_flight);
  const progress =
    (options.progress ?? process.stderr.isTTY) ? createProgressReporter((line) => process.stderr.write(`${line}\n`)) : undefined;
  const outcomes: SyncOutcomes = { results: [], failures: [] };
  try {
    await forEachBounded(relays, config.sync.concurrency, (relay) =>
      syncOneRelay({ db, config, pool, budget, logger: relayLogger(logger, relay.url), window: request.window, progress }, relay, outcomes),
    );
  } finally {
    progress?.stop();
    await pool.close();
  }
  printOutcomes(outcomes, options.json === true);
  return outcomes.failures.length > 0 && outcomes.results.length === 0 ? 1 : 0;
}

/** The named relays (refused when the URL lists exclude them), or else the active relays on reachable networks; priority relays first. */
async function relaysToSync(db: Database, config: Config, named: NamedRelay[]): Promise<RelayToSync[]> {
  const filter = relayUrlFilter(config.relay_url);
  const excluded = named.filter((entry) => !filter.allows(entry.url));
  if (excluded.length > 0)
    throw new UsageError(`--relay ${excluded.map((entry) => entry.url).join(', ')}: excluded by relay_url.blacklist / relay_url.whitelist`);
  const priority = new Set(loadPriorityRelays(config));
  const reachable: string[] = reachableNetworks(config.relay);
  const relays = named.length
    ? [
        ...(
          await getOrCreateRelayIds(
            db,
            named.map((entry) => ({ url: entry.url, network: entry.network })),
            'cli',
          )
        ).entries(),
      ].map(([url, id]) => ({ url, id, trusted: true }))
    : (await listRelays(db, { state: 'active' }))
        .filter((relay) => filter.allows(relay.url) && reachable.includes(relay.network))
        .map((relay) => ({ url: relay.url, id: relay.id, trusted: OPERATOR_SOURCES.includes(relay.discoveredFrom) }));
  return relays.sort((a, b) => Number(priority.has(b.url)) - Number(priority.has(a.url)));
}

/** What every pass of one `sync --once` shares (the logger is the relay's own). */
interface OncePass {
  db: Database;
  config: Config;
  pool: VerifyPool;
  budget: ByteBudget;
  logger: Logger;
  window: SyncWindow;
  progress: ProgressReporter | undefined;
}

/** One relay's pass with its retries; its result or its failure is added to `outcomes` (one relay's failure does not stop the others). */
async function syncOneRelay(pass: OncePass, relay: RelayToSync, outcomes: SyncOutcomes): Promise<void> {
  const { db, config, pool, budget, logger: log, window, progress } = pass;
  try {
    const result = await syncRelayWithRetries({
      db,
      relay,
      config,
      pool,
      budget,
      logger: log,
      ...(window.since === undefined ? {} : { since: window.since }),
      ...(window.until === undefined ? {} : { until: window.until }),
      ...(progress ? { onProgress: (update: PassProgress) => progress.update(update) } : {}),
    });
    outcomes.results.push(result);
    log.info(passLogFields(result), 'relay pass done');
  } catch (error) {
    outcomes.failures.push({ relay: relay.url, error: errorMessage(error) });
    log.error({ err: error }, 'relay pass failed; its cursor keeps what was committed');
  }
}

function printOutcomes({ results, failures }: SyncOutcomes, json: boolean): void {
  // The process's peak resident memory (KiB → MiB), for operators sizing machines.
  const peakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
  if (json) printJson({ results, failures, peakRssMiB, mem: process.env.BB_MEM ? process.memoryUsage() : undefined });
  else {
    for (const result of results) printLine(summaryLine(result));
    for (const failure of failures) printLine(`${failure.relay}: failed: ${failure.error}`);
  }
}
