/**
 * Foreign relays: `npm run bench -- relays`. The scenarios of the "foreign relays" issue, each with
 * the relay in its own process and `bigbrotr sync --once` (the compiled CLI, as a user runs it) into
 * a scratch PostgreSQL database:
 *   - 46,027 events, 2,000 of them in one second, behind a relay that caps `limit` at 500, refuses
 *     a `kinds` list longer than 20 (and `authors`/`ids` over 1,000) with a NOTICE and ignores the
 *     REQ, and ignores COUNT and NIP-77 silently (the nostr-relay-nestjs profile);
 *   - the smaller 5,779 events with an 800-event second on the same relay;
 *   - every relay profile of the test relay with the same crowded set.
 * Reports seconds, requests and whether archived == served, by id.
 */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { RELAY_PROFILES } from '../src/test-relay/profiles.js';
import { generateEvents } from '../test/support/events.js';
import { startRelayChild } from '../test/support/relay-child.js';
import type { BenchResult } from './result.js';
import { withScratchPostgres } from './scratch-postgres.js';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, '..', 'bin', 'bigbrotr.js');
const BURST_SECOND = 1_650_000_000;

/** Spread events over three years plus `burst` events in one second across `burstKinds` kinds; cached as NDJSON. */
function fixture(total: number, burst: number, burstKinds: number): string {
  const path = join(tmpdir(), `bigbrotr-bench-relays-${total}-${burst}-${burstKinds}-v1.ndjson`);
  if (!existsSync(path)) {
    const kinds = Array.from(
      { length: burstKinds },
      (_, index) =>
        ([1, 6, 7, 16, 1111, 9735, 30023, 1063, 1984, 42, 40, 9734, 5, 3, 0, 10002][index % 16] as number) +
        Math.floor(index / 16) * 20_000,
    );
    const spread = generateEvents({
      count: total - burst,
      authors: 300,
      kinds: [1, 7, 6, 30023],
      createdAt: [1_600_000_000, 1_700_000_000],
      contentSize: 200,
      seed: 'bench-relays',
      tags: [['d', 'x']],
    });
    const crowded = generateEvents({
      count: burst,
      authors: 150,
      kinds,
      createdAt: BURST_SECOND,
      contentSize: 120,
      seed: 'bench-relays-burst',
      tags: [['d', 'y']],
    });
    const partial = `${path}.${process.pid}.partial`;
    writeFileSync(partial, [...spread, ...crowded].map((event) => JSON.stringify(event)).join('\n') + '\n');
    renameSync(partial, path);
  }
  return path;
}

async function fixtureIds(path: string, withheldKinds: number[] = []): Promise<string[]> {
  const ids: string[] = [];
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    if (!line) continue;
    const event = JSON.parse(line) as { id: string; kind: number };
    if (!withheldKinds.includes(event.kind)) ids.push(event.id);
  }
  return ids.sort();
}

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, BIGBROTR_LOG__FORMAT: 'json', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

interface Scenario {
  name: string;
  spec: Record<string, unknown>;
  fixturePath: string;
  withheldKinds?: number[];
}

async function runScenario(scenario: Scenario): Promise<BenchResult[]> {
  const relay = await startRelayChild({ ...scenario.spec, fixture: scenario.fixturePath }, 300_000);
  try {
    return await withScratchPostgres('bigbrotr_bench_relays', async (url) => {
      const env = { BIGBROTR_DATABASE_URL: url };
      const migrated = await runCli(['migrate'], env);
      if (migrated.code !== 0) throw new Error(`migrate failed: ${migrated.stderr}`);
      const started = performance.now();
      const synced = await runCli(['sync', '--once', '--relay', relay.url, '--json', '--no-progress'], env);
      const seconds = (performance.now() - started) / 1000;
      if (synced.code !== 0) throw new Error(`sync failed: ${synced.stderr.slice(-2_000)}`);
      const summary = JSON.parse(synced.stdout) as {
        results: {
          stored: number;
          method: string;
          report: { requests: number; complete: boolean; refusals: number; incompleteReason?: string };
        }[];
        peakRssMiB: number;
      };
      const result = summary.results[0];
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const { rows } = await client.query<{ id: string }>("SELECT encode(id, 'hex') AS id FROM event ORDER BY 1");
      await client.end();
      const served = await fixtureIds(scenario.fixturePath, scenario.withheldKinds);
      const exact = rows.length === served.length && rows.every((row, index) => row.id === served[index]);
      const detail = {
        requests: result?.report.requests,
        complete: result?.report.complete,
        refusals: result?.report.refusals,
        method: result?.method,
        archived: rows.length,
        served: served.length,
        exact,
        peakRssMiB: summary.peakRssMiB,
        incompleteReason: result?.report.incompleteReason,
      };
      console.log(JSON.stringify({ scenario: scenario.name, seconds, ...detail }));
      if (!exact) throw new Error(`${scenario.name}: archived ${rows.length} events, the relay served ${served.length}`);
      return [
        {
          bench: 'relays',
          case: `${scenario.name}: sync --once, archived == served (${served.length} events), ${result?.report.requests} requests, complete: ${result?.report.complete}`,
          value: seconds,
          unit: 's',
          ...detail,
        },
      ];
    });
  } finally {
    await relay.stop();
  }
}

export async function run(): Promise<BenchResult[]> {
  const big = fixture(46_027, 2_000, 10);
  const small = fixture(5_779, 800, 8);
  const nestjs500 = {
    profile: 'nostr-relay-nestjs',
    options: { maxLimit: 500, defaultLimit: 500, nip11: { limitation: { max_limit: 500 } } },
  };
  const results: BenchResult[] = [];
  results.push(
    ...(await runScenario({
      name: '46,027 events, a 2,000-event second, max_limit 500, kinds <= 20 (NOTICE), no COUNT, no NIP-77',
      spec: nestjs500,
      fixturePath: big,
    })),
  );
  results.push(...(await runScenario({ name: '5,779 events, an 800-event second, same relay', spec: nestjs500, fixturePath: small })));
  // BENCH_RELAYS_PROFILES=0 runs only the two scenarios above.
  for (const profile of process.env.BENCH_RELAYS_PROFILES === '0' ? [] : RELAY_PROFILES) {
    results.push(
      ...(await runScenario({
        name: `profile ${profile.name}, 46,027 events with a 2,000-event second`,
        spec: { profile: profile.name },
        fixturePath: big,
        withheldKinds: profile.options.withheldKinds ?? [],
      })),
    );
  }
  return results;
}
