import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loader.js';
import { openDatabase } from '../../src/db/open.js';
import { migrate } from '../../src/db/migrate.js';
import { getOrCreateRelayIds, setRelayState } from '../../src/db/relays.js';
import { collectStats } from '../../src/db/stats.js';
import { createLogger } from '../../src/observability/logger.js';
import { runAll } from '../../src/run-all.js';
import { metricsRegistry } from '../../src/observability/metrics.js';
import { createScratchDatabase } from '../support/database.js';
import { startTestRelay, type TestRelay } from '../support/relay/server.js';
import { generateEvents } from '../support/events.js';

const relays: TestRelay[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(relays.map((relay) => relay.close()));
  for (const cleanup of cleanups) await cleanup();
});

function waitForLine(lines: string[], pattern: RegExp, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (lines.some((line) => pattern.test(line))) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() - started > timeoutMs) {
        clearInterval(timer);
        reject(new Error(`no log line ${pattern} within ${timeoutMs} ms:\n${lines.join('')}`));
      }
    }, 50);
  });
}

describe('synchronizer inside bigbrotr run', () => {
  it('archives active relays, benches a failing one with its reason, and stops on request', async () => {
    const relay = await startTestRelay({ maxLimit: 100 });
    relays.push(relay);
    const events = generateEvents({ count: 250, authors: 4, createdAt: [1_700_000_000, 1_700_100_000], seed: 'service' });
    relay.addEvents(events);

    const scratch = await createScratchDatabase({ onDisk: true });
    cleanups.push(scratch.dispose);
    const setup = await openDatabase(scratch.config);
    await migrate(setup, { lockTimeoutMs: 30_000 });
    const ids = await getOrCreateRelayIds(
      setup,
      [
        { url: relay.url, network: 'clearnet' },
        { url: 'ws://127.0.0.1:1/', network: 'clearnet' },
      ],
      'seed',
    ); // local relays: the operator's own
    for (const id of ids.values()) await setRelayState(setup, id, 'active');
    await setup.close();

    const loaded = loadConfig({
      env: {},
      overrides: {
        'database.url': scratch.config.url,
        'database.data_dir': scratch.config.data_dir,
        'http.enabled': false,
        'seed.on_start': false,
        'sync.idle_poll_seconds': 1,
        'relay.connect_timeout_ms': 1_000,
        'verify.workers': 1,
        // The monitor would bench the dead relay first (feed_circuit_breaker); this test is the synchronizer's.
        'monitor.enabled': false,
      },
    });
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', format: 'json' }, { destination: { write: (line: string) => void lines.push(line) } });
    const controller = new AbortController();
    const running = runAll({ loaded, logger, signal: controller.signal });
    await waitForLine(lines, /"relay":"ws:\/\/127\.0\.0\.1:\d+\/".*relay pass done/, 30_000);
    await waitForLine(lines, /"relay":"ws:\/\/127\.0\.0\.1:1\/".*relay pass failed/, 30_000);
    controller.abort();
    const result = await running;
    expect(result.failed).toEqual([]);
    expect(result.abandoned).toBe(false);

    const metrics = await metricsRegistry().metrics();
    expect(metrics).toMatch(/bigbrotr_sync_events_stored_total 250/);
    expect(metrics).toMatch(/bigbrotr_sync_passes_total\{outcome="unreachable"\} [1-9]/);
    expect(metrics).toMatch(/bigbrotr_sync_passes_total\{outcome="complete"\} [1-9]/);
    expect(metrics).toContain(`bigbrotr_sync_relay_events_total{relay="${relay.url}",outcome="stored"} 250`);
    expect(metrics).toContain(`bigbrotr_sync_relay_events_total{relay="${relay.url}",outcome="invalid"} 0`);
    expect(metrics).toMatch(new RegExp(`bigbrotr_sync_relay_lag_seconds\\{relay="${relay.url}"\\} \\d`));
    expect(metrics).toMatch(/bigbrotr_sync_relay_errors_total\{relay="ws:\/\/127\.0\.0\.1:1\/",type="network"\} [1-9]/);

    const check = await openDatabase(scratch.config);
    try {
      const stats = await collectStats(check);
      expect(stats.events).toBe(250);
      expect(stats.eventRelayPairs).toBe(250);
      const health = await check.query<{ url: string; consecutive_failures: number; benched: boolean; last_error: string }>(
        `SELECT r.url, h.consecutive_failures, h.benched_until > now() AS benched, h.last_error FROM relay_health h JOIN relay r ON r.id = h.relay_id ORDER BY r.url`,
      );
      const failing = health.rows.find((row) => row.url === 'ws://127.0.0.1:1/');
      expect(failing?.consecutive_failures).toBeGreaterThanOrEqual(1);
      expect(failing?.benched).toBe(true);
      expect(failing?.last_error).toMatch(/cannot connect|ECONNREFUSED/);
      const good = health.rows.find((row) => row.url === relay.url);
      expect(good?.consecutive_failures).toBe(0);
      const leases = await check.query<{ n: number }>(
        `SELECT count(*) AS n FROM service_lease WHERE service = 'sync' AND expires_at > now()`,
      );
      expect(leases.rows[0]?.n).toBe(0);
    } finally {
      await check.close();
    }
  });
});
