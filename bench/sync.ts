/**
 * End-to-end sync throughput: `npm run bench -- sync`. A test relay in its own process holds
 * BENCH_SYNC_EVENTS signed events (default 200,000, of which 5,000 share one second) behind a cap of
 * 500 per page. Each phase (bench/sync-phase.ts) runs in a fresh process: (a) the raw download
 * ceiling with the same pagination, no verification and no database; (b) a pass into PGlite and
 * (c) into PostgreSQL: WebSocket, shape check, id + signature verification in the worker pool, bulk
 * insert and cursor; then a second pass (nothing new) and a full re-scan; (d) peak RSS per phase.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from './result.js';
import { ensureSyncFixture } from './sync-fixture.js';

const TOTAL = Number(process.env.BENCH_SYNC_EVENTS ?? 200_000);
const BURST = Number(process.env.BENCH_SYNC_BURST ?? 5_000);
const here = dirname(fileURLToPath(import.meta.url));

function tsxArgs(script: string, args: string[]): string[] {
  return ['--import', 'tsx', join(here, script), ...args];
}

async function startRelayProcess(fixturePath: string) {
  const child = spawn(process.execPath, tsxArgs('sync-relay-process.ts', [fixturePath, '500']), { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const ready = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`relay process exited with ${code}`)));
  });
  const [, url, size] = ready.split(' ');
  if (!url || Number(size) !== TOTAL) throw new Error(`relay process: unexpected "${ready}"`);
  return { url, stop: () => child.stdin.end() };
}

async function runPhase(phase: string, relayUrl: string, extra: string[] = []): Promise<Record<string, number | string>> {
  const child = spawn(process.execPath, tsxArgs('sync-phase.ts', [phase, relayUrl, String(TOTAL), ...extra]), {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`sync phase ${phase} failed with exit code ${code}`);
  const result = JSON.parse(output.trim().split('\n').pop() as string) as Record<string, number | string>;
  console.log(JSON.stringify(result));
  return result;
}

export async function run(): Promise<BenchResult[]> {
  const fixture = ensureSyncFixture(TOTAL, BURST);
  const relay = await startRelayProcess(fixture.path);
  const label = `${TOTAL.toLocaleString('en-US')} events (${BURST.toLocaleString('en-US')} in one second), cap 500`;
  try {
    const raw = await runPhase('raw-negentropy', relay.url);
    const rawReq = await runPhase('raw-req', relay.url);
    const results: BenchResult[] = [
      {
        bench: 'sync',
        case: `(a) raw download ceiling, NIP-77 + ids (the synchronizer's method here), ${label}`,
        value: raw.eventsPerSecond as number,
        unit: 'events/s',
        ...raw,
      },
      {
        bench: 'sync',
        case: `(a) raw download ceiling, REQ pagination (relays without NIP-77): ${rawReq.events} of ${TOTAL} reached`,
        value: rawReq.eventsPerSecond as number,
        unit: 'events/s',
        ...rawReq,
      },
      { bench: 'sync', case: '(d) peak RSS, raw download', value: raw.peakRssMiB as number, unit: 'MiB' },
    ];
    const dir = mkdtempSync(join(tmpdir(), 'bigbrotr-bench-sync-'));
    try {
      const created = await runPhase('pglite-create', join(dir, 'data'));
      results.push({
        bench: 'sync',
        case: '(d) peak RSS creating the embedded archive (initdb in WebAssembly, once per archive)',
        value: created.peakRssMiB as number,
        unit: 'MiB',
      });
      for (const [letter, phase] of [
        ['b', 'pglite'],
        ['c', 'postgres'],
      ] as const) {
        const archived = await runPhase(phase, relay.url, phase === 'pglite' ? [join(dir, 'data')] : []);
        results.push(
          {
            bench: 'sync',
            case: `(${letter}) end to end into ${phase}, ${label}`,
            value: archived.eventsPerSecond as number,
            unit: 'events/s',
            ...archived,
          },
          { bench: 'sync', case: `(d) peak RSS, ${phase} phase (three passes)`, value: archived.peakRssMiB as number, unit: 'MiB' },
          { bench: 'sync', case: `(e) second pass into ${phase}, nothing new`, value: archived.secondPassSeconds as number, unit: 's' },
          {
            bench: 'sync',
            case: `full re-scan of the whole window into ${phase}, everything already archived`,
            value: archived.rescanSeconds as number,
            unit: 's',
          },
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return results;
  } finally {
    relay.stop();
  }
}
