import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, spawnCli, waitForOutput } from '../support/cli.js';
import { createCliDatabase } from '../support/database.js';

let database: Awaited<ReturnType<typeof createCliDatabase>>;
let workDir: string;
const children: ReturnType<typeof spawnCli>[] = [];

function start(args: string[], env: Record<string, string>): ReturnType<typeof spawnCli> {
  const child = spawnCli(args, env);
  children.push(child);
  return child;
}

beforeAll(async () => {
  database = await createCliDatabase();
  workDir = mkdtempSync(join(tmpdir(), 'bigbrotr-run-'));
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await database?.dispose();
  rmSync(workDir, { recursive: true, force: true });
});

function exitOf(child: ReturnType<typeof spawnCli>): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
}

describe('bigbrotr run', () => {
  it('migrates, seeds, serves metrics and health, reloads on SIGHUP and exits 0 on SIGTERM', async () => {
    const seedFile = join(workDir, 'seeds.txt');
    writeFileSync(seedFile, 'ws://127.0.0.1:1/\nnot a url\n');
    const configFile = join(workDir, 'bigbrotr.yaml');
    writeFileSync(configFile, 'http:\n  port: 0\nlog:\n  level: info\n');
    const child = start(['run', '--config', configFile], { ...database.env, BIGBROTR_SEED__FILE: seedFile });
    const exited = exitOf(child);
    let output = '';
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const started = await waitForOutput(child, /bigbrotr is running/);
    const url = /metrics at (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(started)?.[1];
    expect(url).toBeDefined();
    expect(started).toContain('seed list loaded');

    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`bigbrotr_build_info\\{version="[^"]+",database="${database.kind}"\\} 1`));
    expect(metrics).toContain('bigbrotr_process_resident_memory_bytes');

    // SIGHUP: a live option (log level) applies, a restart-only one (http.port) is named.
    writeFileSync(configFile, 'http:\n  port: 1234\nlog:\n  level: debug\n');
    child.kill('SIGHUP');
    const reloaded = await waitForOutput(child, /configuration reloaded/);
    expect(reloaded).toMatch(/only after a restart: http\.port/);
    expect(reloaded).toMatch(/configuration reloaded: log\.level/);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);

    child.kill('SIGTERM');
    const { code } = await exited;
    expect(code).toBe(0);
    expect(output).toContain('bigbrotr stopped');

    const stats = await runCli(['stats', '--json'], database.env);
    expect(JSON.parse(stats.stdout).relays.total).toBe(1);
  });

  it('exits 0 on SIGINT too, and 2 at once on an invalid config', async () => {
    const child = start(['run', '--no-seed'], { ...database.env, BIGBROTR_HTTP__ENABLED: 'false' });
    const exited = exitOf(child);
    await waitForOutput(child, /bigbrotr is running/);
    child.kill('SIGINT');
    expect((await exited).code).toBe(0);

    const bad = await runCli(['run'], { ...database.env, BIGBROTR_SHUTDOWN__GRACE_MS: 'soon' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('shutdown.grace_ms: expected a positive integer (milliseconds), got "soon"');
  });
});
