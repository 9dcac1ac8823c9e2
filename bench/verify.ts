/**
 * Signature verification throughput: `npm run bench -- verify` (or `npx tsx bench/verify.ts`).
 * One core: id only (sha256), WASM verifier, native verifier per event and in batches.
 * Both cores: the worker pool with 1 and 2 workers (id + signature, as the synchronizer uses it).
 */
import { performance } from 'node:perf_hooks';
import type { NostrEvent } from '../src/nostr/event.js';
import { matchEventId } from '../src/nostr/event-id.js';
import { hexToBytes } from '../src/nostr/hex.js';
import { loadNativeVerifier, wasmVerifier, type SchnorrVerifier } from '../src/nostr/schnorr.js';
import { generateSecretKey, signEvent } from '../src/nostr/sign.js';
import { verifyEvents } from '../src/nostr/verify-event.js';
import { createVerifyPool } from '../src/verify/pool.js';
import type { BenchResult } from './result.js';

const EVENT_COUNT = Number(process.env.BENCH_VERIFY_EVENTS ?? 20_000);

function makeEvents(count: number): NostrEvent[] {
  const keys = Array.from({ length: 50 }, () => generateSecretKey());
  return Array.from({ length: count }, (_, index) =>
    signEvent(
      {
        kind: 1,
        created_at: 1_700_000_000 + index,
        tags: [
          ['e', 'a'.repeat(64), 'wss://relay.example/'],
          ['p', 'b'.repeat(64)],
          ['t', 'bench'],
        ],
        content: `benchmark note ${index} ${'lorem ipsum dolor sit amet '.repeat(6)}`,
      },
      keys[index % keys.length] as string,
    ),
  );
}

function rate(count: number, ms: number): number {
  return (count * 1000) / ms;
}

function time(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

function perEvent(events: NostrEvent[], verifier: SchnorrVerifier): number {
  return time(() => {
    let valid = 0;
    for (const event of events) if (verifier.verify(hexToBytes(event.sig), hexToBytes(event.id), hexToBytes(event.pubkey))) valid += 1;
    if (valid !== events.length) throw new Error(`${verifier.name}: ${events.length - valid} events failed`);
  });
}

export async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const record = (name: string, value: number, detail: Record<string, unknown> = {}) => {
    const result: BenchResult = { bench: 'verify', case: name, value: Math.round(value), unit: 'events/s', n: EVENT_COUNT, ...detail };
    console.log(JSON.stringify(result));
    results.push(result);
  };
  const generationStart = performance.now();
  const events = makeEvents(EVENT_COUNT);
  console.error(`generated ${EVENT_COUNT} signed events in ${Math.round(performance.now() - generationStart)} ms`);

  // Warm-up so that JIT and WASM compilation are not measured.
  const warm = events.slice(0, 500);
  perEvent(warm, wasmVerifier);

  record(
    'id only (sha256), 1 core',
    rate(
      events.length,
      time(() => events.forEach((event) => matchEventId(event))),
    ),
  );
  record('wasm (tiny-secp256k1), signature only, 1 core', rate(events.length, perEvent(events, wasmVerifier)));
  const native = loadNativeVerifier().verifier;
  if (native) {
    perEvent(warm, native);
    record('native libsecp256k1, signature only, per call, 1 core', rate(events.length, perEvent(events, native)));
    record(
      'native libsecp256k1, id + signature, batch, 1 core',
      rate(
        events.length,
        time(() => verifyEvents(events, native)),
      ),
    );
  } else {
    console.error(`native verifier unavailable: ${loadNativeVerifier().reason}`);
  }
  record(
    'wasm, id + signature, batch, 1 core',
    rate(
      events.length,
      time(() => verifyEvents(events, wasmVerifier)),
    ),
  );

  for (const workers of [1, 2]) {
    const pool = await createVerifyPool({ workers, batchSize: 500 });
    await pool.verify(warm);
    const start = performance.now();
    const verdicts = await pool.verify(events);
    const elapsed = performance.now() - start;
    await pool.close();
    if (verdicts.some((verdict) => !verdict.ok)) throw new Error('pool reported invalid events');
    record(`worker pool (${pool.verifierName}), id + signature, ${workers} worker${workers > 1 ? 's' : ''}`, rate(events.length, elapsed), {
      workers,
    });
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
