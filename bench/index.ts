/**
 * `npm run bench [-- NAME ...]`: runs the named benchmarks (all when none is named) and prints their
 * results as JSON lines plus a markdown table with the machine and date, ready for docs/benchmarks.md.
 * Benchmarks talk only to 127.0.0.1.
 */
import { cpus, totalmem } from 'node:os';
import type { BenchResult } from './result.js';

type BenchModule = { run: (...args: string[]) => Promise<BenchResult[]> };

const benchmarks: Record<string, () => Promise<BenchModule>> = {
  verify: () => import('./verify.js') as Promise<BenchModule>,
  insert: () => import('./insert.js') as Promise<BenchModule>,
  sync: () => import('./sync.js') as Promise<BenchModule>,
  monitor: () => import('./monitor.js') as Promise<BenchModule>,
  api: () => import('./api.js') as Promise<BenchModule>,
  relays: () => import('./relays.js') as Promise<BenchModule>,
  stats: () => import('./stats.js') as Promise<BenchModule>,
  network: () => import('./network.js') as Promise<BenchModule>,
};

async function main(): Promise<void> {
  // Options (`--scale N` of the network benchmark takes a value) are read by the benchmarks themselves.
  const args = process.argv.slice(2);
  const requested = args.filter((arg, index) => !arg.startsWith('-') && args[index - 1] !== '--scale');
  const names = requested.length > 0 ? requested : Object.keys(benchmarks);
  const unknown = names.filter((name) => !(name in benchmarks));
  if (unknown.length > 0) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')}; available: ${Object.keys(benchmarks).join(', ')}`);
    process.exit(2);
  }
  const results: BenchResult[] = [];
  for (const name of names) {
    const module = await (benchmarks[name] as () => Promise<BenchModule>)();
    results.push(...(await module.run()));
  }
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const machine = `${cpus().length} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}`;
  console.log(`\n## ${new Date().toISOString().slice(0, 10)}: npm run bench -- ${names.join(' ')}\n`);
  console.log(`Machine: ${machine}\n`);
  console.log('| bench | case | value | unit |');
  console.log('| --- | --- | ---: | --- |');
  for (const result of results) {
    const shown = result.unit === 's' ? result.value.toFixed(3) : Math.round(result.value).toLocaleString('en-US');
    console.log(`| ${result.bench} | ${result.case} | ${shown} | ${result.unit} |`);
  }
}

main()
  .then(
    // Benchmarks may leave pooled connections idling; the results are printed, so end now.
    () => process.exit(0),
  )
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
