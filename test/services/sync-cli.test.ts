import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, spawnCli } from '../support/cli.js';
import { createCliDatabase } from '../support/database.js';
import { startTestRelay, type TestRelay } from '../support/relay/server.js';
import { generateEvents } from '../support/events.js';
import type { NostrEvent } from '../../src/nostr/event.js';

const base = 1_700_000_000;
let database: Awaited<ReturnType<typeof createCliDatabase>>;
let corpus: NostrEvent[];
const relays: TestRelay[] = [];

interface SyncJson {
  results: {
    relayUrl: string;
    stored: number;
    newLinks: number;
    report: { complete: boolean; crowdedSeconds: number };
    invalid: { badId: number; badSig: number };
  }[];
  failures: { relay: string; error: string }[];
}

beforeAll(async () => {
  database = await createCliDatabase();
  corpus = [
    ...generateEvents({ count: 400, authors: 9, kinds: [1, 7, 30023], createdAt: [base, base + 2_000], seed: 'sync-spread' }),
    ...generateEvents({ count: 450, authors: 23, kinds: [1, 6, 7], createdAt: base + 1_000, seed: 'sync-crowd' }),
  ];
});
afterAll(async () => {
  await Promise.all(relays.map((relay) => relay.close()));
  await database?.dispose();
});

async function relay(options: Parameters<typeof startTestRelay>[0]): Promise<TestRelay> {
  // These relays exercise REQ pagination and its cursor (no NIP-77); negentropy: relay-pass.test.ts.
  const started = await startTestRelay({ keepAllVersions: true, negentropy: false, ...options });
  relays.push(started);
  return started;
}

/** Waits until the relay has sent `count` events (the syncing process is then mid-pass). */
async function untilSent(target: TestRelay, count: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (target.counters.eventsSent < count) {
    if (Date.now() > deadline) throw new Error(`relay sent only ${target.counters.eventsSent} events`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function storedEvents(): Promise<{ events: number; pairs: number }> {
  const stats = await runCli(['stats', '--json'], database.env);
  const parsed = JSON.parse(stats.stdout) as { events: number; eventRelayPairs: number };
  return { events: parsed.events, pairs: parsed.eventRelayPairs };
}

describe('bigbrotr sync --once', () => {
  it('archives every event of a capped relay exactly once, rejecting bad signatures', async () => {
    const capped = await relay({ maxLimit: 100, defaultLimit: 100, misbehaviour: { badSignatureEvery: 97 } });
    capped.addEvents(corpus);
    const first = await runCli(
      ['sync', '--once', '--relay', capped.url, '--since', String(base), '--until', String(base + 5_000), '--json'],
      database.env,
    );
    expect(first.code, first.stderr).toBe(0);
    const result = JSON.parse(first.stdout) as SyncJson;
    expect(result.failures).toEqual([]);
    const [pass] = result.results;
    expect(pass?.report.complete).toBe(true);
    expect(pass?.report.crowdedSeconds).toBeGreaterThanOrEqual(1);
    // Tampered copies are rejected; the clean copies arrive in later, overlapping pages or not at all.
    expect(pass?.invalid.badSig).toBeGreaterThan(0);
    const afterFirst = await storedEvents();
    expect(afterFirst.events + (pass?.invalid.badSig ?? 0)).toBeGreaterThanOrEqual(corpus.length);
    expect(afterFirst.events).toBeLessThanOrEqual(corpus.length);

    // A clean relay with the same events fills what the tampered copies hid, and only adds provenance for the rest.
    const clean = await relay({ maxLimit: 500 });
    clean.addEvents(corpus);
    const second = await runCli(
      ['sync', '--once', '--relay', clean.url, '--since', String(base), '--until', String(base + 5_000), '--json'],
      database.env,
    );
    expect(second.code, second.stderr).toBe(0);
    const secondPass = (JSON.parse(second.stdout) as SyncJson).results[0];
    expect(secondPass?.stored).toBe(corpus.length - afterFirst.events);
    expect(secondPass?.newLinks).toBe(corpus.length);
    const afterSecond = await storedEvents();
    expect(afterSecond.events).toBe(corpus.length);
    expect(afterSecond.pairs).toBe(afterFirst.events + corpus.length);

    // Running again stores nothing new.
    const again = await runCli(
      ['sync', '--once', '--relay', clean.url, '--since', String(base), '--until', String(base + 5_000), '--json'],
      database.env,
    );
    expect((JSON.parse(again.stdout) as SyncJson).results[0]?.stored).toBe(0);
    expect((await storedEvents()).events).toBe(corpus.length);
  });

  /**
   * Starts `sync --once` on a slow relay holding 600 fresh events, kills it with SIGKILL mid-pass,
   * checks that part (not all) was committed, then resumes at full speed and returns the resumed run.
   */
  async function killMidPassThenResume(slow: TestRelay, from: number, seed: string) {
    const fresh = generateEvents({ count: 600, authors: 5, createdAt: [from, from + 6_000], seed });
    slow.addEvents(fresh);
    const window = ['--relay', slow.url, '--since', String(from), '--until', String(from + 10_000)];
    const before = (await storedEvents()).events;
    const child = spawnCli(['sync', '--once', ...window], database.env);
    const exited = new Promise((resolve) => child.on('close', resolve));
    await untilSent(slow, 300);
    child.kill('SIGKILL');
    await exited;
    const partial = (await storedEvents()).events - before;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(fresh.length);
    slow.setBehaviour({ delayMs: 0 });
    const resumed = await runCli(['sync', '--once', ...window, '--json'], database.env);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect((await storedEvents()).events - before).toBe(fresh.length);
    return { resumed, missing: fresh.length - partial };
  }

  it('resumes after kill -9 with nothing lost and nothing stored twice', async () => {
    await killMidPassThenResume(await relay({ maxLimit: 50, misbehaviour: { delayMs: 10 } }), base + 10_000, 'resume');
  });

  it('resumes after kill -9 on the NIP-77 path too: the next reconciliation fetches only what is missing', async () => {
    const { resumed, missing } = await killMidPassThenResume(
      await relay({ maxLimit: 50, negentropy: true, misbehaviour: { delayMs: 10 } }),
      base + 50_000,
      'resume-neg',
    );
    const pass = (JSON.parse(resumed.stdout) as { results: { method: string; stored: number; negentropy: { need: number } }[] }).results[0];
    expect(pass?.method).toBe('negentropy');
    expect(pass?.negentropy.need).toBe(missing);
    expect(pass?.stored).toBe(missing);
  });

  it('--progress prints per-relay progress lines (events, rate, position in time) on stderr', async () => {
    const slow = await relay({ maxLimit: 50, misbehaviour: { delayMs: 8 } });
    slow.addEvents(generateEvents({ count: 400, authors: 4, createdAt: [base + 30_000, base + 34_000], seed: 'progress' }));
    const result = await runCli(
      ['sync', '--once', '--progress', '--relay', slow.url, '--since', String(base + 30_000), '--until', String(base + 40_000)],
      database.env,
    );
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stderr.split('\n').filter((line) => line.startsWith(`${slow.url}: `));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.at(-1)).toMatch(/: 400 new events \(\d[\d,]*\/s\), 400 new links, REQ, reached 2023-/);
  });

  it('refuses bad usage with exit 2', async () => {
    const continuousWithRelay = await runCli(['sync', '--relay', 'ws://127.0.0.1:1/'], database.env);
    expect(continuousWithRelay.code).toBe(2);
    expect(continuousWithRelay.stderr).toContain('need --once');
    const badRelay = await runCli(['sync', '--once', '--relay', 'https://nope.example'], database.env);
    expect(badRelay.code).toBe(2);
    expect(badRelay.stderr).toContain('--relay https://nope.example');
    expect((await runCli(['sync', '--once', '--since', 'yesterday-ish'], database.env)).code).toBe(2);
  });

  it('an unreachable relay is a failure for that relay, reported, exit 1', async () => {
    const result = await runCli(['sync', '--once', '--relay', 'ws://127.0.0.1:1/', '--json'], {
      ...database.env,
      BIGBROTR_RELAY__CONNECT_TIMEOUT_MS: '1000',
    });
    expect(result.code).toBe(1);
    const parsed = JSON.parse(result.stdout) as SyncJson;
    expect(parsed.failures[0]?.relay).toBe('ws://127.0.0.1:1/');
  });
});
