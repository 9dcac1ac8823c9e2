import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createCliDatabase } from '../support/database.js';
import { generateEvents } from '../support/events.js';
import { startTestRelay, type TestRelay } from '../support/relay/server.js';
import { socksImplementations, startSocksProxy } from '../support/socks-proxy.js';

const PASSWORD = 'Socks-Pw-7b1e4c';
let relay: TestRelay;

beforeAll(async () => {
  relay = await startTestRelay({ maxLimit: 50 });
  relay.addEvents(generateEvents({ count: 180, authors: 4, createdAt: [1_700_000_000, 1_700_000_900], seed: 'socks' }));
});
afterAll(async () => {
  await relay?.close();
});

describe.each(socksImplementations())('sync through a SOCKS5 proxy (%s)', (implementation) => {
  it('archives a relay through the proxy, and fails (naming the relay, not the password) when the proxy is gone', async () => {
    const database = await createCliDatabase();
    const proxy = await startSocksProxy({ user: 'archiver', password: PASSWORD }, implementation);
    try {
      const env = { ...database.env, BIGBROTR_RELAY__SOCKS_PROXY_URL: proxy.url, BIGBROTR_RELAY__SOCKS_PROXY_FOR: 'all' };
      const through = await runCli(['sync', '--once', '--relay', relay.url, '--since', '0', '--json'], env);
      expect(through.code, through.stderr).toBe(0);
      const result = JSON.parse(through.stdout) as { results: { stored: number; report: { complete: boolean } }[] };
      expect(result.results[0]?.stored).toBe(180);
      expect(result.results[0]?.report.complete).toBe(true);

      // Wrong credentials: the proxy refuses, so the connection really goes through it.
      const wrong = await runCli(['sync', '--once', '--relay', relay.url, '--since', '0', '--json'], {
        ...env,
        BIGBROTR_RELAY__SOCKS_PROXY_URL: proxy.url.replace(encodeURIComponent(PASSWORD), 'not-the-password'),
      });
      expect(wrong.code).toBe(1);
      expect((JSON.parse(wrong.stdout) as { failures: { relay: string }[] }).failures[0]?.relay).toBe(relay.url);

      await proxy.stop();
      const down = await runCli(['sync', '--once', '--relay', relay.url, '--since', '0', '--json'], env);
      expect(down.code).toBe(1);
      const failure = (JSON.parse(down.stdout) as { failures: { relay: string; error: string }[] }).failures[0];
      expect(failure?.relay).toBe(relay.url);
      expect(failure?.error).toMatch(/cannot connect/);
      for (const output of [through, wrong, down]) expect(output.stdout + output.stderr).not.toContain(PASSWORD);
    } finally {
      await proxy.stop();
      await database.dispose();
    }
  });
});
