/**
 * Monitor efficiency: `npm run bench -- monitor`. BENCH_MONITOR_RELAYS endpoints (default 500) on
 * loopback in a mix of healthy, slow, dead, garbage-sending, hanging and silent relays
 * (bench/monitor-relays-process.ts, its own process); one monitor pass over all of them with the
 * default configuration (10 s timeouts, concurrency 50), into PGlite and into PostgreSQL, each in a
 * fresh process: seconds for the pass, relays checked per minute, peak RSS. Target: all 500 in under
 * 60 s.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from './result.js';

const TOTAL = Number(process.env.BENCH_MONITOR_RELAYS ?? 500);
const here = dirname(fileURLToPath(import.meta.url));

function tsxArgs(script: string, args: string[]): string[] {
  return ['--import', 'tsx', join(here, script), ...args];
}

async function startRelays() {
  const child = spawn(process.execPath, tsxArgs('monitor-relays-process.ts', [String(TOTAL)]), { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const ready = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`relays process exited with ${code}`)));
  });
  if (!ready.startsWith('READY ')) throw new Error(`relays process: unexpected "${ready.slice(0, 100)}"`);
  return { urls: JSON.parse(ready.slice(6)) as Record<string, string[]>, stop: () => child.stdin.end() };
}

async function runPhase(args: string[]): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, tsxArgs('monitor-phase.ts', args), { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`monitor phase ${args[0]} failed with exit code ${code}`);
  const result = JSON.parse(output.trim().split('\n').pop() as string) as Record<string, unknown>;
  console.log(JSON.stringify({ phase: args[0], ...result }));
  return result;
}

export async function run(): Promise<BenchResult[]> {
  const relays = await startRelays();
  const dir = mkdtempSync(join(tmpdir(), 'bigbrotr-bench-monitor-'));
  const mix = Object.entries(relays.urls)
    .map(([kind, list]) => `${list.length} ${kind}`)
    .join(', ');
  try {
    const urlsFile = join(dir, 'urls.json');
    writeFileSync(urlsFile, JSON.stringify(relays.urls));
    const results: BenchResult[] = [];
    for (const [kind, target] of [
      ['pglite', join(dir, 'data')],
      ['postgres', '-'],
    ] as const) {
      const phase = await runPhase([kind, target, urlsFile]);
      results.push(
        {
          bench: 'monitor',
          case: `one pass over ${TOTAL} loopback relays (${mix}) into ${kind}, 10 s timeouts, concurrency 50`,
          value: phase.seconds as number,
          unit: 's',
          ...phase,
        },
        { bench: 'monitor', case: `relays checked per minute, ${kind}`, value: phase.relaysPerMinute as number, unit: 'relays/min' },
        { bench: 'monitor', case: `peak RSS of the monitor process, ${kind}`, value: phase.peakRssMiB as number, unit: 'MiB' },
      );
    }
    return results;
  } finally {
    relays.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
