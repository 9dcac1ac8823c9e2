/**
 * A pool of worker threads that verify event ids and signatures off the main thread. Batches are
 * split into chunks of `batchSize` and spread over the workers; results come back in input order.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Config } from '../config/schema.js';
import type { NostrEvent } from '../nostr/event.js';
import type { VerifierChoice } from '../nostr/schnorr.js';
import type { EventVerdict } from '../nostr/verify-event.js';
import { decodeVerdict, type VerifyRequest, type VerifyResponse } from './protocol.js';
import { KnownSignatures } from './known-signatures.js';

/**
 * Worker threads for a configured `verify.workers` (0 = automatic): one per core with PostgreSQL;
 * one with the embedded database, whose insert rate (about 6,000 events/s) one worker out-verifies
 * (17,000/s), and where each further worker's heap would push the process past 400 MB.
 */
export function verifyWorkerCount(configured: number, embeddedDatabase: boolean): number {
  if (configured > 0) return configured;
  return embeddedDatabase ? 1 : availableParallelism();
}

/**
 * Signatures remembered when `verify.known_signatures` is unset: fewer with the embedded database,
 * whose process also holds the database (a sync of 200,000 events into PGlite peaked 30 MB lower with
 * 20,000 than with 100,000; docs/benchmarks.md).
 */
export function knownSignatureCount(configured: number | undefined, embeddedDatabase: boolean): number {
  return configured ?? (embeddedDatabase ? 20_000 : 100_000);
}

/** The pool a configuration asks for: `verify.workers` and signature memory (automatic by database), batch size. */
export function verifyPoolOptions(config: Pick<Config, 'verify' | 'database'>): VerifyPoolOptions {
  const embedded = !config.database.url;
  return {
    workers: verifyWorkerCount(config.verify.workers, embedded),
    batchSize: config.verify.batch_size,
    knownSignatures: knownSignatureCount(config.verify.known_signatures, embedded),
  };
}

export interface VerifyPoolOptions {
  /** Worker threads; 0 = one per CPU core. */
  workers: number;
  /** Events per message to a worker. */
  batchSize: number;
  verifier?: VerifierChoice;
  /** Signatures remembered as verified (0 = none): a copy of a remembered event gets only its id checked. */
  knownSignatures?: number;
}

export interface VerifyPool {
  readonly size: number;
  /** Name of the verifier the workers loaded (`native` or `wasm`). */
  readonly verifierName: string;
  /**
   * Verifies ids and signatures. An event whose exact (id, sig) this pool verified before (and still
   * remembers) gets only its id checked: across the network each event sits on several relays, and
   * the id check (a sha256) costs a fraction of the Schnorr verification.
   */
  verify(events: NostrEvent[]): Promise<EventVerdict[]>;
  close(): Promise<void>;
}

interface PoolWorker {
  worker: Worker;
  pending: number;
}

/**
 * A worker holds one chunk of one page at a time (pages are cut at `sync.max_page_bytes`): a small
 * old generation makes V8 collect as it goes instead of growing each worker's heap by hundreds of
 * megabytes of garbage when relays send huge events.
 */
const WORKER_RESOURCE_LIMITS = { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 16 };

function startWorker(workerData: unknown): Worker {
  // Under vitest/tsx the sources are TypeScript: the worker registers the tsx loader before loading them.
  if (fileURLToPath(import.meta.url).endsWith('.ts')) {
    const target = JSON.stringify(new URL('./worker.ts', import.meta.url).href);
    return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${target}); })`, {
      eval: true,
      workerData,
      resourceLimits: WORKER_RESOURCE_LIMITS,
    });
  }
  return new Worker(new URL('./worker.js', import.meta.url), { workerData, resourceLimits: WORKER_RESOURCE_LIMITS });
}

type Callbacks = Map<number, { resolve: (codes: Uint8Array) => void; reject: (error: Error) => void }>;

/** Starts one worker; resolves with the name of the verifier it loaded once it says it is ready. */
function startPoolWorker(entry: PoolWorker, callbacks: Callbacks): Promise<string> {
  return new Promise((resolve, reject) => {
    entry.worker.once('message', (message: { ready: boolean; verifier: string }) => {
      entry.worker.on('message', (response: VerifyResponse) => {
        entry.pending -= 1;
        callbacks.get(response.id)?.resolve(response.codes);
        callbacks.delete(response.id);
      });
      resolve(message.verifier);
    });
    entry.worker.on('error', (error) => {
      reject(error);
      for (const callback of callbacks.values()) callback.reject(new Error(`verification worker failed: ${error.message}`));
      callbacks.clear();
    });
  });
}

export async function createVerifyPool(options: VerifyPoolOptions): Promise<VerifyPool> {
  const size = options.workers > 0 ? options.workers : availableParallelism();
  const callbacks: Callbacks = new Map();
  let nextId = 0;
  let closed = false;
  const known = new KnownSignatures(options.knownSignatures ?? 0);
  const workers: PoolWorker[] = Array.from({ length: size }, () => ({
    worker: startWorker({ verifier: options.verifier ?? 'auto' }),
    pending: 0,
  }));
  const names = await Promise.all(workers.map((entry) => startPoolWorker(entry, callbacks)));

  /** One chunk to the least busy worker. */
  const submit = (events: NostrEvent[], signatureKnown?: ReadonlySet<string>): Promise<Uint8Array> => {
    const target = workers.reduce((best, candidate) => (candidate.pending < best.pending ? candidate : best));
    target.pending += 1;
    const id = nextId++;
    return new Promise((resolve, reject) => {
      callbacks.set(id, { resolve, reject });
      const request: VerifyRequest = { id, eventsJson: JSON.stringify(events) };
      if (signatureKnown && signatureKnown.size > 0)
        request.signatureKnown = Uint8Array.from(events, (event) => (signatureKnown.has(event.id) ? 1 : 0));
      target.worker.postMessage(request);
    });
  };

  return {
    size,
    verifierName: names[0] ?? 'unknown',
    async verify(events) {
      if (closed) throw new Error('verification pool is closed');
      const signatureKnown =
        known.size > 0 ? new Set(events.filter((event) => known.has(event.id, event.sig)).map((event) => event.id)) : undefined;
      // Spread even one page over every worker: a batch's verification time is what the pipeline waits for.
      const chunkSize = Math.max(1, Math.min(options.batchSize, Math.ceil(events.length / size)));
      const chunks: Promise<Uint8Array>[] = [];
      for (let start = 0; start < events.length; start += chunkSize)
        chunks.push(submit(events.slice(start, start + chunkSize), signatureKnown));
      const verdicts = (await Promise.all(chunks)).flatMap((codes) => Array.from(codes, decodeVerdict));
      verdicts.forEach((verdict, index) => {
        const event = events[index] as NostrEvent;
        if (verdict.ok && !verdict.known) known.remember(event.id, event.sig);
      });
      return verdicts;
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(workers.map((entry) => entry.worker.terminate()));
    },
  };
}
