import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createCliDatabase } from '../support/database.js';
import { generateEvents } from '../support/events.js';
import { startTestRelay, type TestRelay } from '../support/relay/server.js';
import { startSocksProxy, type SocksProxy } from '../support/socks-proxy.js';

const PASSWORD = 'Socks-Pw-7b1e4c';
let database: Awaited<ReturnType<typeof createCliDatabase>>;
let relay: TestRelay;
let proxy: SocksProxy;

beforeAll(async () => {
  database = await createCliDatabase();
  relay = await startTestRelay({ maxLimit: 50 });
  relay.addEvents(generateEvents({ count: 180, authors: 4, createdAt: [1_700_000_000, 1_700_000_900], seed: 'socks' }));
  proxy = await startSocksProxy({ user: 'archiver', password: PASSWORD });
});
afterAll(async () => {
  await proxy?.stop();
  await relay?.close();
  await database?.dispose();
});

describe('sync through a SOCKS5 proxy (microsocks)', () => {
  it('archives a relay through the proxy, and fails (naming the relay, not the password) when the proxy is gone', async () => {
    const env = { ...database.env, BIGBROTR_RELAY__SOCKS_PROXY_URL: proxy.url, BIGBROTR_RELAY__SOCKS_PROXY_FOR: 'all' };
    const through = await runCli(['sync', '--once', '--relay', relay.url, '--since', '0', '--json'], env);
    expect(through.code, through.stderr).toBe(0);
    const result = JSON.parse(through.stdout) as { results: { stored: number; report: { complete: boolean } }[] };
    expect(result.results[0]?.stored).toBe(180);
    expect(result.results[0]?.report.complete).toBe(true);

    // Wrong credentials: the proxy refuses, so the connection really goes through it.
    const wrong = await runCli(['sync', '--once', '--relay', relay.url, '--since', '0', '--json'], { ...env, BIGBROTR_RELAY__SOCKS_PROXY_URL: proxy.url.replace(encodeURIComponent(PASSWORD), 'not-the-password') });
    expect(wrong.code).toBe(1);
    expect((JSON.parse(wrong.stdout) as { failures: { relay: string }[] }).failures[0]?.relay).toBe(relay.url);

    await proxy.stop();
    const down = await runCli(['sync', '--once', '--relay', relay.url, '--since', '0', '--json'], env);
    expect(down.code).toBe(1);
    const failure = (JSON.parse(down.stdout) as { failures: { relay: string; error: string }[] }).failures[0];
    expect(failure?.relay).toBe(relay.url);
    expect(failure?.error).toMatch(/cannot connect/);
    for (const output of [through, wrong, down]) expect(output.stdout + output.stderr).not.toContain(PASSWORD);
  });
});
