import { writeFileSync, mkdtempSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createCliDatabase } from '../support/database.js';

let database: Awaited<ReturnType<typeof createCliDatabase>>;
let workDir: string;

beforeAll(async () => {
  database = await createCliDatabase();
  workDir = mkdtempSync(join(tmpdir(), 'bigbrotr-cli-'));
});
afterAll(async () => {
  await database?.dispose();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

interface StatsJson {
  database: string;
  relays: { total: number; byNetwork: Record<string, number>; byState: Record<string, number> };
  events: number;
  eventRelayPairs: number;
  metadata: number;
}

describe('database commands', () => {
  it('migrate creates the schema, then reports it up to date (twice, and from two processes at once)', async () => {
    const [first, second] = await Promise.all([runCli(['migrate', '--json'], database.env), runCli(['migrate', '--json'], database.env)]);
    expect(first.code, first.stderr).toBe(0);
    expect(second.code, second.stderr).toBe(0);
    const applied = [first, second].map((result) => (JSON.parse(result.stdout) as { applied: string[] }).applied);
    // Exactly one of the two applied the migrations (on PGlite the second waits for the data directory).
    expect(applied.filter((list) => list.length > 0).length).toBeLessThanOrEqual(1);
    const again = await runCli(['migrate'], database.env);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/schema is up to date/);
  });

  it('seed loads good lines, reports bad ones with line numbers, and adds nothing the second time', async () => {
    const file = join(workDir, 'seeds.txt');
    writeFileSync(
      file,
      [
        '# test seeds',
        'wss://relay.one.example',
        'WSS://Relay.Two.Example:443/   # trailing comment',
        '',
        'https://not-a-relay.example',
        'wss://relay.one.example/',
        'ws://abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion',
        'wss://wss://broken',
        'ws://127.0.0.1:7777',
        `wss://${'a'.repeat(600)}.example`,
      ].join('\n'),
    );
    const first = await runCli(['seed', '--file', file], database.env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('4 valid relay URL(s), 4 new, 0 already known, 1 duplicate line(s), 3 bad line(s)');
    expect(first.stderr).toMatch(new RegExp(`${file}:5: .+https://not-a-relay.example`));
    expect(first.stderr).toMatch(new RegExp(`${file}:8: `));
    expect(first.stderr).toMatch(new RegExp(`${file}:10: `));

    const second = await runCli(['seed', '--file', file, '--json'], database.env);
    expect(second.code).toBe(0);
    const result = JSON.parse(second.stdout) as { inserted: number; alreadyKnown: number; problems: { line: number }[] };
    expect(result.inserted).toBe(0);
    expect(result.alreadyKnown).toBe(4);
    expect(result.problems.map((problem) => problem.line)).toEqual([5, 8, 10]);

    const stats = await runCli(['stats', '--json'], database.env);
    expect(stats.code).toBe(0);
    const parsed = JSON.parse(stats.stdout) as StatsJson;
    expect(parsed.database).toBe(database.kind);
    expect(parsed.relays.total).toBe(4);
    expect(parsed.relays.byNetwork.clearnet).toBe(3);
    expect(parsed.relays.byNetwork.tor).toBe(1);
    expect(parsed.relays.byState.candidate).toBe(4);
    expect(parsed.events).toBe(0);
    expect(parsed.eventRelayPairs).toBe(0);
    expect(parsed.metadata).toBe(0);
  });

  it('seed without --file loads the shipped list', async () => {
    const result = await runCli(['seed', '--json'], database.env);
    expect(result.code, result.stderr).toBe(0);
    const parsed = JSON.parse(result.stdout) as { file: string; valid: number; problems: unknown[] };
    expect(parsed.file).toMatch(/seeds\/relays\.txt$/);
    expect(parsed.valid).toBeGreaterThanOrEqual(24);
    expect(parsed.problems).toEqual([]);
  });

  it('a missing or unreadable seed file is exit 2 naming the path', async () => {
    const missing = await runCli(['seed', '--file', join(workDir, 'nope.txt')], database.env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(join(workDir, 'nope.txt'));
    expect(missing.stderr).toContain('no such file');
    const directory = await runCli(['seed', '--file', workDir], database.env);
    expect(directory.code).toBe(2);
    expect(directory.stderr).toContain(workDir);
    if (process.getuid?.() !== 0) {
      const locked = join(workDir, 'locked.txt');
      writeFileSync(locked, 'wss://x.example\n');
      chmodSync(locked, 0o000);
      expect((await runCli(['seed', '--file', locked], database.env)).code).toBe(2);
    }
  });

  it('stats prints a human-readable summary', async () => {
    const result = await runCli(['stats'], database.env);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/relays:\s+\d+/);
    expect(result.stdout).toMatch(/events:\s+0/);
  });
});

describe('database failures', () => {
  it('an unreachable PostgreSQL is exit 1 and the password never appears in the output', async () => {
    const result = await runCli(['migrate'], {
      BIGBROTR_DATABASE_URL: 'postgres://someone:very-secret-pw-31337@127.0.0.1:1/nothing',
      BIGBROTR_DATABASE__CONNECT_TIMEOUT_MS: '2000',
      BIGBROTR_LOG_LEVEL: 'trace',
    });
    expect(result.code).toBe(1);
    expect(result.stderr.length).toBeGreaterThan(0);
    expect(result.stdout + result.stderr).not.toContain('very-secret-pw-31337');
  });
});
