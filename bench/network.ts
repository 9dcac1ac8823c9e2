/**
 * `npm run bench -- network [--scale N]`: bigbrotr against a simulated Nostr network on one machine
 * (bench/network-fixture.ts: R relays behaving like public relay implementations, 25 % with NIP-77,
 * 5 % dead, a few hostile, U unique events on about 4 relays each, kind 10002 lists naming every
 * relay, 3 relays seeded). From an empty PostgreSQL archive, `bigbrotr run` (every service) plus
 * N - 1 extra `bigbrotr sync` processes run until the archive holds exactly the generator's truth;
 * the archive is then compared with it pair by pair.
 *
 * Environment: BENCH_NETWORK_SYNCHRONIZERS (e.g. `1,2,4`: one run per count, default `1`),
 * BENCH_NETWORK_RELAYS / BENCH_NETWORK_EVENTS / BENCH_NETWORK_AUTHORS (override the size),
 * BENCH_NETWORK_HOSTS (relay host processes, default 4), BENCH_NETWORK_TIMEOUT_S (default 900),
 * BENCH_NETWORK_KEEP_LOGS=1 (keep bigbrotr's logs), BENCH_NETWORK_NODE_FLAGS (node flags for bigbrotr's processes),
 * BIGBROTR_* variables (passed to bigbrotr's processes over the benchmark's settings). Needs the compiled CLI: it runs `npm run build`
 * first (BENCH_NETWORK_SKIP_BUILD=1: use dist/ as it is).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { NostrEvent } from '../src/nostr/event.js';
import { freePort } from '../test/support/free-port.js';
import type { BenchResult } from './result.js';
import {
  DEFAULT_NETWORK,
  ensureNetworkEvents,
  placeEvents,
  planRelays,
  readNetworkEvents,
  SEED_RELAYS,
  signRelayLists,
  type NetworkPlan,
  type NetworkSize,
} from './network-fixture.js';
import { peakRssMiB, processCpuSeconds } from './process-stats.js';
import { withScratchPostgres } from './scratch-postgres.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const SEED = 'bigbrotr-network-v1';
const log = (line: string) => process.stderr.write(`[network] ${line}\n`);

function scaleFromArgs(): number {
  const index = process.argv.indexOf('--scale');
  if (index < 0) return 1;
  const scale = Number(process.argv[index + 1]);
  if (!Number.isFinite(scale) || scale <= 0) throw new Error(`--scale: expected a positive number, got ${process.argv[index + 1]}`);
  return scale;
}

function networkSize(): NetworkSize {
  const scale = scaleFromArgs();
  const fromEnv = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : Math.round(fallback));
  return {
    relays: Math.min(2_000, fromEnv('BENCH_NETWORK_RELAYS', DEFAULT_NETWORK.relays * Math.sqrt(scale))),
    events: fromEnv('BENCH_NETWORK_EVENTS', DEFAULT_NETWORK.events * scale),
    authors: fromEnv('BENCH_NETWORK_AUTHORS', DEFAULT_NETWORK.authors * scale),
  };
}

/** CPU seconds of every PostgreSQL server process, by pid. */
function postgresCpu(): Map<number, number> {
  const out = execFileSync('ps', ['-C', 'postgres', '-o', 'pid=']).toString();
  return new Map(
    out
      .split('\n')
      .filter(Boolean)
      .map((pid) => [Number(pid), processCpuSeconds(Number(pid))]),
  );
}

/** Busy CPU seconds of the whole machine (all cores), from /proc/stat. */
function machineBusySeconds(): number {
  const [, ...fields] = (readFileSync('/proc/stat', 'utf8').split('\n')[0] as string).trim().split(/\s+/);
  const values = fields.map(Number);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return (values.reduce((sum, value) => sum + value, 0) - idle) / 100;
}

interface Host {
  child: ChildProcess;
  relays: number;
  events: number;
}

async function startHosts(planPath: string, count: number): Promise<Host[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, host) => {
      const child = spawn(
        process.execPath,
        ['--max-old-space-size=8192', '--import', 'tsx', join(here, 'network-relays-process.ts'), planPath, String(host), String(count)],
        { stdio: ['pipe', 'pipe', 'inherit'] },
      );
      const ready = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`relay host ${host} exited with ${code}`)));
      });
      const [, relays, events] = ready.split(' ');
      return { child, relays: Number(relays), events: Number(events) };
    }),
  );
}

interface Truth {
  /** Every unique event the live relays hold. */
  ids: string[];
  /** (event index in `ids`, relay index) pairs. */
  pairs: { event: Int32Array; relay: Int32Array };
  jsonBytes: number;
}

function buildTruth(events: NostrEvent[], placement: Uint16Array[], lists: { event: NostrEvent; relays: number[] }[]): Truth {
  const ids: string[] = [];
  const eventOf: number[] = [];
  const relayOf: number[] = [];
  let jsonBytes = 0;
  const add = (event: NostrEvent, relays: ArrayLike<number>) => {
    const index = ids.length;
    ids.push(event.id);
    jsonBytes += Buffer.byteLength(JSON.stringify(event));
    for (let position = 0; position < relays.length; position += 1) {
      eventOf.push(index);
      relayOf.push(relays[position] as number);
    }
  };
  events.forEach((event, index) => add(event, placement[index] as Uint16Array));
  for (const list of lists) add(list.event, list.relays);
  return { ids, pairs: { event: Int32Array.from(eventOf), relay: Int32Array.from(relayOf) }, jsonBytes };
}

/** Inserted minus deleted rows of a table and its partitions, from the statistics collector (cheap, a second or so behind). */
const STAT_ROWS = `SELECT coalesce(sum(n_tup_ins - n_tup_del), 0)::bigint AS n FROM pg_stat_user_tables
  WHERE relid = $1::regclass OR relid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = $1::regclass)`;

async function waitForCompletion(
  client: pg.Client,
  truth: Truth,
  timeoutMs: number,
  started: number,
): Promise<{ seconds: number; events: number; pairs: number; complete: boolean }> {
  const expectedPairs = truth.pairs.event.length;
  let last = { events: 0, pairs: 0 };
  let lastReport = 0;
  while (Date.now() - started < timeoutMs) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const events = Number((await client.query<{ n: string }>(STAT_ROWS, ['event'])).rows[0]?.n ?? 0);
    const pairs = Number((await client.query<{ n: string }>(STAT_ROWS, ['event_relay'])).rows[0]?.n ?? 0);
    if (Date.now() - lastReport > 15_000) {
      log(
        `${Math.round((Date.now() - started) / 1000)} s: about ${events.toLocaleString('en-US')} of ${truth.ids.length.toLocaleString('en-US')} events, ${pairs.toLocaleString('en-US')} of ${expectedPairs.toLocaleString('en-US')} pairs`,
      );
      lastReport = Date.now();
    }
    if (events >= truth.ids.length && pairs >= expectedPairs) {
      const exact = await client.query<{ events: string; pairs: string }>(
        'SELECT (SELECT count(*) FROM event) AS events, (SELECT count(*) FROM event_relay) AS pairs',
      );
      const row = exact.rows[0];
      last = { events: Number(row?.events), pairs: Number(row?.pairs) };
      if (last.events === truth.ids.length && last.pairs === expectedPairs)
        return { seconds: (Date.now() - started) / 1000, ...last, complete: true };
    }
    last = { events, pairs };
  }
  return { seconds: (Date.now() - started) / 1000, ...last, complete: false };
}

/** Compares the archive with the truth pair by pair: what is missing and what should not be there. */
async function compareWithTruth(client: pg.Client, truth: Truth, ports: number[]) {
  const relays = await client.query<{ id: number; url: string }>('SELECT id, url FROM relay');
  const relayIdByPort = new Map(relays.rows.map((row) => [Number(/:(\d+)/.exec(row.url)?.[1]), row.id]));
  await client.query('CREATE TEMP TABLE truth_pair (event_id bytea NOT NULL, relay_id integer) ON COMMIT PRESERVE ROWS');
  const chunk = 50_000;
  for (let start = 0; start < truth.pairs.event.length; start += chunk) {
    const end = Math.min(truth.pairs.event.length, start + chunk);
    const ids: string[] = [];
    const relayIds: (number | null)[] = [];
    for (let position = start; position < end; position += 1) {
      ids.push(truth.ids[truth.pairs.event[position] as number] as string);
      relayIds.push(relayIdByPort.get(ports[truth.pairs.relay[position] as number] as number) ?? null);
    }
    await client.query(`INSERT INTO truth_pair SELECT decode(i, 'hex'), r FROM unnest($1::text[], $2::int[]) AS t(i, r)`, [ids, relayIds]);
  }
  await client.query('CREATE INDEX ON truth_pair (event_id, relay_id)');
  await client.query('ANALYZE truth_pair');
  const { rows } = await client.query<Record<string, string>>(
    `SELECT (SELECT count(DISTINCT event_id) FROM truth_pair t WHERE NOT EXISTS (SELECT 1 FROM event e WHERE e.id = t.event_id)) AS missing_events,
            (SELECT count(*) FROM event e WHERE NOT EXISTS (SELECT 1 FROM truth_pair t WHERE t.event_id = e.id)) AS extra_events,
            (SELECT count(*) FROM truth_pair t WHERE NOT EXISTS (SELECT 1 FROM event_relay er WHERE er.event_id = t.event_id AND er.relay_id = t.relay_id)) AS missing_pairs,
            (SELECT count(*) FROM event_relay er WHERE NOT EXISTS (SELECT 1 FROM truth_pair t WHERE t.event_id = er.event_id AND t.relay_id = er.relay_id)) AS extra_pairs`,
  );
  const missingByRelay = await client.query<{ url: string | null; missing: string }>(
    `SELECT r.url, count(*) AS missing FROM truth_pair t LEFT JOIN relay r ON r.id = t.relay_id
     WHERE NOT EXISTS (SELECT 1 FROM event_relay er WHERE er.event_id = t.event_id AND er.relay_id = t.relay_id)
     GROUP BY r.url ORDER BY count(*) DESC LIMIT 10`,
  );
  const row = rows[0] ?? {};
  return {
    missingEvents: Number(row.missing_events),
    extraEvents: Number(row.extra_events),
    missingPairs: Number(row.missing_pairs),
    extraPairs: Number(row.extra_pairs),
    missingByRelay: missingByRelay.rows.map((entry) => `${entry.url ?? 'never discovered'}: ${entry.missing}`),
  };
}

async function storageBytes(client: pg.Client) {
  const { rows } = await client.query<{ events: string; pairs: string; database: string }>(
    `SELECT (SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits WHERE inhparent = 'event'::regclass) AS events,
            (SELECT pg_total_relation_size('event_relay')) AS pairs,
            pg_database_size(current_database()) AS database`,
  );
  const row = rows[0];
  return { eventBytes: Number(row?.events), pairBytes: Number(row?.pairs), databaseBytes: Number(row?.database) };
}

function startCli(args: string[], env: Record<string, string>, logPath: string): ChildProcess {
  const nodeFlags = (process.env.BENCH_NETWORK_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeFlags, join(root, 'bin/bigbrotr.js'), ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const file = createWriteStream(logPath);
  child.stdout?.pipe(file);
  child.stderr?.pipe(file);
  return child;
}

async function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${pattern.source}" within ${timeoutMs} ms`)), timeoutMs);
    const lines = createInterface({ input: child.stderr as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      if (pattern.test(line)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`bigbrotr exited with ${code} before "${pattern.source}"`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

async function archiveNetwork(synchronizers: number, plan: NetworkPlan, truth: Truth, workDir: string): Promise<BenchResult[]> {
  const seedFile = join(workDir, 'seeds.txt');
  writeFileSync(
    seedFile,
    plan.ports
      .slice(0, SEED_RELAYS)
      .map((port) => `ws://127.0.0.1:${port}/`)
      .join('\n') + '\n',
  );
  const timeoutMs = Number(process.env.BENCH_NETWORK_TIMEOUT_S ?? 900) * 1000;
  return withScratchPostgres(`bigbrotr_bench_network_${synchronizers}`, async (url) => {
    const env: Record<string, string> = {
      BIGBROTR_DATABASE_URL: url,
      BIGBROTR_SEED__FILE: seedFile,
      BIGBROTR_HTTP__PORT: '0',
      BIGBROTR_LOG__LEVEL: 'info',
      // Discovered relays are on 127.0.0.1: let the finder and validator take them.
      BIGBROTR_RELAY_URL__ALLOW_PRIVATE: 'true',
      // Discovery without waiting: scan new events every 2 s, probe candidates as they come.
      BIGBROTR_FINDER__INTERVAL_SECONDS: '2',
      BIGBROTR_FINDER__SCAN_LAG_SECONDS: '0',
      BIGBROTR_VALIDATOR__IDLE_POLL_SECONDS: '1',
      BIGBROTR_SYNC__IDLE_POLL_SECONDS: '1',
      // The simulated relays receive nothing new: a relay is passed once (and again only for what it
      // owes). Revisits every few seconds would re-reconcile every NIP-77 relay's whole range (each
      // reading its ids from the archive) and keep relays not yet visited waiting for a slot.
      BIGBROTR_SYNC__INTERVAL_SECONDS: '3600',
      // A window owed on a first pass (a crowded second, a refusal) is retried 10 s later, not 5 minutes.
      BIGBROTR_SYNC__OWED_RETRY_SECONDS: '10',
    };
    // BIGBROTR_* variables of the benchmark's environment override these (to try settings).
    for (const [name, value] of Object.entries(process.env))
      if (name.startsWith('BIGBROTR_') && name !== 'BIGBROTR_DATABASE_URL' && value !== undefined) env[name] = value;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const processes: { role: string; child: ChildProcess }[] = [];
    try {
      const postgresBefore = postgresCpu();
      const machineBefore = machineBusySeconds();
      const started = Date.now();
      const run = startCli(['run'], env, join(workDir, `run-${synchronizers}.log`));
      processes.push({ role: 'run', child: run });
      await waitForLine(run, /bigbrotr is running/, 120_000);
      for (let extra = 1; extra < synchronizers; extra += 1)
        processes.push({
          role: `sync ${extra + 1}`,
          child: startCli(['sync'], env, join(workDir, `sync-${synchronizers}-${extra + 1}.log`)),
        });
      const outcome = await waitForCompletion(client, truth, timeoutMs, started);
      const bigbrotrCpu = processes.map(({ role, child }) => ({
        role,
        cpuSeconds: processCpuSeconds(child.pid as number),
        peakRssMiB: peakRssMiB(child.pid as number),
      }));
      const postgresAfter = postgresCpu();
      const postgresSeconds = [...postgresAfter].reduce((sum, [pid, seconds]) => sum + seconds - (postgresBefore.get(pid) ?? 0), 0);
      const machineSeconds = machineBusySeconds() - machineBefore;
      for (const { child } of processes) await stop(child);
      const comparison = await compareWithTruth(client, truth, plan.ports);
      const storage = await storageBytes(client);
      const uniqueEvents = truth.ids.length;
      const pairs = truth.pairs.event.length;
      const ourCpu = bigbrotrCpu.reduce((sum, entry) => sum + entry.cpuSeconds, 0);
      const detail = {
        synchronizers,
        complete: outcome.complete,
        seconds: outcome.seconds,
        uniqueEvents,
        pairs,
        ...comparison,
        bigbrotrCpuSeconds: ourCpu,
        postgresCpuSeconds: postgresSeconds,
        machineBusyCpuSeconds: machineSeconds,
        processes: bigbrotrCpu,
        ...storage,
        jsonBytesPerEvent: truth.jsonBytes / uniqueEvents,
      };
      console.log(JSON.stringify(detail));
      if (!outcome.complete || comparison.missingPairs + comparison.extraPairs + comparison.missingEvents + comparison.extraEvents > 0) {
        log(
          `NOT COMPLETE after ${Math.round(outcome.seconds)} s; logs kept in ${workDir}; missing pairs by relay: ${comparison.missingByRelay.join('; ')}`,
        );
      }
      const label = `${synchronizers} synchronizer${synchronizers > 1 ? 's' : ''}, ${plan.relays.length} relays, ${uniqueEvents.toLocaleString('en-US')} events, ${pairs.toLocaleString('en-US')} pairs`;
      const completeness = 100 * (1 - (comparison.missingPairs + comparison.extraPairs) / pairs);
      return [
        { bench: 'network', case: `time to a complete archive, ${label}`, value: outcome.seconds, unit: 's', ...detail },
        { bench: 'network', case: `unique events/s, ${label}`, value: uniqueEvents / outcome.seconds, unit: 'events/s' },
        { bench: 'network', case: `event-relay pairs/s, ${label}`, value: pairs / outcome.seconds, unit: 'pairs/s' },
        { bench: 'network', case: `completeness (pairs against the truth), ${label}`, value: completeness, unit: '%' },
        {
          bench: 'network',
          case: `bigbrotr CPU per unique event (all its processes), ${label}`,
          value: (1e6 * ourCpu) / uniqueEvents,
          unit: 'CPU-µs',
        },
        {
          bench: 'network',
          case: `PostgreSQL CPU per unique event (all server processes, other databases' included), ${label}`,
          value: (1e6 * postgresSeconds) / uniqueEvents,
          unit: 'CPU-µs',
        },
        {
          bench: 'network',
          case: `whole machine busy CPU during the run (relays, bigbrotr, PostgreSQL, anything else), ${label}`,
          value: machineSeconds,
          unit: 'CPU-s',
        },
        ...bigbrotrCpu.map((entry) => ({
          bench: 'network',
          case: `peak RSS of bigbrotr ${entry.role}, ${label}`,
          value: entry.peakRssMiB,
          unit: 'MiB',
        })),
        {
          bench: 'network',
          case: `event table bytes per unique event (indexes included; JSON ${Math.round(truth.jsonBytes / uniqueEvents)} bytes), ${label}`,
          value: storage.eventBytes / uniqueEvents,
          unit: 'bytes',
        },
        {
          bench: 'network',
          case: `event_relay bytes per pair (indexes included), ${label}`,
          value: storage.pairBytes / pairs,
          unit: 'bytes',
        },
        {
          bench: 'network',
          case: `whole database bytes per unique event, ${label}`,
          value: storage.databaseBytes / uniqueEvents,
          unit: 'bytes',
        },
      ];
    } finally {
      for (const { child } of processes) await stop(child);
      await client.end();
    }
  });
}

export async function run(): Promise<BenchResult[]> {
  const size = networkSize();
  const counts = (process.env.BENCH_NETWORK_SYNCHRONIZERS ?? '1').split(',').map(Number);
  const hostCount = Number(process.env.BENCH_NETWORK_HOSTS ?? 4);
  if (process.env.BENCH_NETWORK_SKIP_BUILD !== '1') {
    log(`building the CLI (npm run build)`);
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  }
  const eventsPath = ensureNetworkEvents(size, SEED, log);
  const relays = planRelays(size.relays);
  const ports: number[] = [];
  while (ports.length < relays.length) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  const urls = ports.map((port) => `ws://127.0.0.1:${port}/`);
  const relayLists = signRelayLists(urls, relays, size, SEED, 1_764_500_000);
  const workDir = mkdtempSync(join(tmpdir(), 'bigbrotr-bench-network-'));
  const plan: NetworkPlan = { seed: SEED, size, eventsPath, relays, ports, relayLists };
  const planPath = join(workDir, 'plan.json');
  writeFileSync(planPath, JSON.stringify(plan));
  log(`starting ${relays.length} relays in ${hostCount} processes`);
  const hosts = await startHosts(planPath, hostCount);
  let failed = false;
  try {
    const events = await readNetworkEvents(eventsPath);
    const truth = buildTruth(events, placeEvents(relays, events.length, SEED), relayLists);
    const held = hosts.reduce((sum, host) => sum + host.events, 0);
    if (held !== truth.pairs.event.length) throw new Error(`relays hold ${held} events, the truth says ${truth.pairs.event.length} pairs`);
    log(
      `network up: ${hosts.reduce((sum, host) => sum + host.relays, 0)} live relays, ${truth.ids.length.toLocaleString('en-US')} unique events, ${held.toLocaleString('en-US')} pairs (${(held / truth.ids.length).toFixed(2)} relays per event)`,
    );
    const results: BenchResult[] = [];
    for (const synchronizers of counts) {
      const outcome = await archiveNetwork(synchronizers, plan, truth, workDir);
      results.push(...outcome);
      if ((outcome[0] as BenchResult & { complete: boolean }).complete !== true) failed = true;
    }
    return results;
  } finally {
    for (const host of hosts) host.child.stdin?.end();
    if (!failed && process.env.BENCH_NETWORK_KEEP_LOGS !== '1') rmSync(workDir, { recursive: true, force: true });
  }
}
