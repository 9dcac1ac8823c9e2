/** `bigbrotr export` and `bigbrotr import`: the archive as NIP-01 JSON lines, out and in. */
import { createReadStream, createWriteStream, renameSync, rmSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { Command } from 'commander';
import type { ActionRunner } from '../action-runner.js';
import { buildContext, type GlobalOptions } from '../context.js';
import { UsageError } from '../errors.js';
import { parseTime } from '../arguments.js';
import { withDatabase } from '../with-database.js';
import { printError, printJson, printLine } from '../output.js';
import { eventLimitsFrom } from '../../config/limits.js';
import type { ArchiveFilter } from '../../db/event-query.js';
import { getOrCreateRelayIds } from '../../db/relays.js';
import { hexOrNip19 } from '../../nostr/nip19.js';
import { normalizeRelayUrl } from '../../nostr/relay-url.js';
import { exportEvents } from '../../transfer/export-events.js';
import { importEvents, type ImportSummary } from '../../transfer/import-events.js';
import { createVerifyPool, verifyPoolOptions } from '../../verify/pool.js';

function parseKinds(value: string): number[] {
  return value.split(',').map((part) => {
    const kind = Number(part.trim());
    if (!/^\d{1,5}$/.test(part.trim()) || kind > 65_535)
      throw new UsageError(`--kinds: expected integers from 0 to 65535 separated by commas, got ${JSON.stringify(part.slice(0, 20))}`);
    return kind;
  });
}

function parseAuthors(value: string): string[] {
  return value.split(',').map((part) => {
    const text = part.trim();
    const hex = hexOrNip19(text, ['npub', 'nprofile']);
    if (hex === undefined)
      throw new UsageError(`--authors: expected 64 lowercase hex characters or an npub/nprofile, got ${JSON.stringify(text.slice(0, 20))}`);
    return hex;
  });
}

function parseRelay(value: string, flag: string) {
  const normalized = normalizeRelayUrl(value);
  if (!normalized.ok) throw new UsageError(`${flag}: not a relay URL (${normalized.reason}): ${JSON.stringify(value.slice(0, 80))}`);
  return normalized;
}

function importLine(summary: ImportSummary): string {
  const rejected = Object.entries(summary.rejected).map(([reason, count]) => `${count} ${reason}`);
  const count = (value: number) => value.toLocaleString('en-US');
  return (
    `${count(summary.lines)} lines: ${count(summary.imported)} events imported, ${count(summary.alreadyArchived)} already archived, ` +
    `${count(summary.newRelayLinks)} new relay links, rejected: ${rejected.length > 0 ? rejected.join(', ') : 'none'}`
  );
}

function exportLine(summary: { events: number; bytes: number }, output: string | undefined): string {
  const where = output ? ` to ${output}` : '';
  return `exported ${summary.events.toLocaleString('en-US')} events (${summary.bytes.toLocaleString('en-US')} bytes)${where}`;
}

const IMPORT_DESCRIPTION =
  'Read events from NIP-01 JSON lines (our export, strfry export, nak, relay dumps), verify each, store the new ones; ' +
  'print rejected lines by reason';

const EXPORT_DESCRIPTION =
  'Write archived events as NIP-01 JSON lines (one event per line, newest first, exactly as signed), streamed in constant memory';

interface ExportOptions {
  output?: string;
  kinds?: string;
  authors?: string;
  since?: string;
  until?: string;
  relay?: string;
  provenance?: boolean;
  json?: boolean;
}

interface ImportOptions {
  input?: string;
  relay?: string;
  maxLineBytes: string;
  progress?: boolean;
  json?: boolean;
}

export function registerTransfer(program: Command, run: ActionRunner): void {
  program
    .command('export')
    .description(EXPORT_DESCRIPTION)
    .option('-o, --output <file>', 'file to write (written under a temporary name, renamed when complete); default: standard output')
    .option('--kinds <list>', 'only these kinds, comma-separated')
    .option('--authors <list>', 'only these authors: hex keys or npub/nprofile, comma-separated')
    .option('--since <time>', 'created at or after (unix seconds or ISO date)')
    .option('--until <time>', 'created at or before (unix seconds or ISO date)')
    .option('--relay <url>', 'only events seen on this relay')
    .option('--provenance', 'add "seen_on": [{relay, first_seen_at}] to each line (not NIP-01: other tools may refuse it)')
    .option('--json', 'print the summary as JSON on stderr')
    .action((options: ExportOptions) => run(() => runExport(program, options)));

  program
    .command('import')
    .description(IMPORT_DESCRIPTION)
    .option('-i, --input <file>', 'file to read; default: standard input')
    .option('--relay <url>', 'record these events as seen on this relay (added to the relay list if new)')
    .option('--max-line-bytes <bytes>', 'longest line accepted; longer lines are rejected as too long', '16777216')
    .option('--progress', 'print progress on stderr (default: on a terminal)')
    .option('--json', 'print the summary as JSON')
    .action((options: ImportOptions) => run(() => runImport(program, options)));
}

function exportFilter(options: ExportOptions): ArchiveFilter {
  return {
    ...(options.kinds ? { kinds: parseKinds(options.kinds) } : {}),
    ...(options.authors ? { authors: parseAuthors(options.authors) } : {}),
    ...(options.since ? { since: parseTime(options.since, '--since') } : {}),
    ...(options.until ? { until: parseTime(options.until, '--until') } : {}),
    ...(options.relay ? { relay: parseRelay(options.relay, '--relay').url } : {}),
  };
}

/** Writes to a temporary name and renames when complete, so a stopped export never leaves a file that looks whole. */
async function runExport(program: Command, options: ExportOptions): Promise<void> {
  const filter = exportFilter(options);
  const context = buildContext(program.opts<GlobalOptions>());
  const partial = options.output ? `${options.output}.partial-${process.pid}` : undefined;
  const out = partial ? createWriteStream(partial) : process.stdout;
  try {
    const summary = await withDatabase(context, (db) => exportEvents(db, out, { filter, provenance: options.provenance === true }));
    if (partial && options.output) {
      out.end();
      await finished(out);
      renameSync(partial, options.output);
    }
    if (options.json) printError(JSON.stringify(summary));
    else printError(exportLine(summary, options.output));
  } catch (error) {
    if (partial) {
      out.destroy();
      rmSync(partial, { force: true });
    }
    throw error;
  }
}

function parseMaxLineBytes(value: string): number {
  const maxLineBytes = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(maxLineBytes) || maxLineBytes < 1_024)
    throw new UsageError(`--max-line-bytes: expected an integer of at least 1024, got ${JSON.stringify(value.slice(0, 20))}`);
  return maxLineBytes;
}

async function runImport(program: Command, options: ImportOptions): Promise<void> {
  const maxLineBytes = parseMaxLineBytes(options.maxLineBytes);
  const relay = options.relay ? parseRelay(options.relay, '--relay') : undefined;
  const context = buildContext(program.opts<GlobalOptions>());
  const { config } = context.loaded;
  const input = options.input ? createReadStream(options.input) : process.stdin;
  const showProgress = options.progress ?? process.stderr.isTTY;
  const summary = await withDatabase(context, async (db) => {
    const relayId = relay
      ? ((await getOrCreateRelayIds(db, [{ url: relay.url, network: relay.network }], 'cli')).get(relay.url) ?? null)
      : null;
    const pool = await createVerifyPool(verifyPoolOptions(config));
    let printedAt = Date.now();
    try {
      return await importEvents(db, pool, input, {
        relayId,
        limits: eventLimitsFrom(config.limits),
        maxLineBytes,
        insertBatchSize: config.database.insert_batch_size,
        onProgress: (running) => {
          if (!showProgress || Date.now() - printedAt < 2_000) return;
          printedAt = Date.now();
          printError(importLine(running));
        },
      });
    } finally {
      await pool.close();
    }
  });
  if (options.json) printJson(summary);
  else {
    printLine(importLine(summary));
    for (const example of summary.examples) printLine(`  line ${example.line}: ${example.reason}`);
  }
}
