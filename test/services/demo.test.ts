/**
 * `bigbrotr demo` as a user sees it: from one seeded local relay, within a minute the other relays are
 * discovered, validated, monitored and archived, and the dashboard and the API show it.
 */
// database-under-test: none (the demo always runs on its own fresh embedded archive)
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observability/logger.js';
import { runDemo } from '../../src/demo/demo.js';

interface Stats {
  unique_events: number;
  event_relay_pairs: number;
  relays: number;
  active_relays: number;
  relays_up: number;
}

describe('bigbrotr demo', () => {
  it('discovers, validates, monitors and archives every local relay within a minute, and serves the dashboard', async () => {
    const controller = new AbortController();
    let ready: { dashboardUrl: string; relayUrls: string[] } | undefined;
    const running = runDemo({
      relays: 4,
      eventsPerRelay: 150,
      port: 0,
      logger: silentLogger(),
      signal: controller.signal,
      onReady: (info) => (ready = info),
    });
    try {
      const started = Date.now();
      let stats: Stats | undefined;
      while (Date.now() - started < 60_000) {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        if (!ready) continue;
        stats = (await (await fetch(`${ready.dashboardUrl}v1/stats`)).json()) as Stats;
        if (
          stats.active_relays === 4 &&
          stats.relays_up === 4 &&
          stats.unique_events > 0 &&
          stats.event_relay_pairs > stats.unique_events
        ) {
          const { relays } = (await (await fetch(`${ready.dashboardUrl}v1/stats/sync`)).json()) as {
            relays: { completed_until: number | null }[];
          };
          if (relays.length === 4 && relays.every((relay) => relay.completed_until !== null)) break;
        }
      }
      expect(ready?.relayUrls).toHaveLength(4);
      expect(stats).toMatchObject({ relays: 4, active_relays: 4, relays_up: 4 });
      // 4 relays × 150 events, one in five also on the next relay: every event once, more pairs than events.
      expect(stats?.unique_events).toBeGreaterThan(400);
      expect(stats?.event_relay_pairs).toBeGreaterThan(stats?.unique_events ?? 0);
      const page = await fetch(ready?.dashboardUrl ?? '');
      expect(page.headers.get('content-type')).toContain('text/html');
      const { relays } = (await (await fetch(`${ready?.dashboardUrl}v1/relays`)).json()) as {
        relays: { url: string; name: string | null; up: boolean }[];
      };
      expect(relays.map((relay) => relay.name).sort()).toEqual(['demo relay 1', 'demo relay 2', 'demo relay 3', 'demo relay 4']);
      expect(relays.every((relay) => relay.up)).toBe(true);
    } finally {
      controller.abort();
      const result = await running;
      expect(result.failed).toEqual([]);
    }
  }, 90_000);
});
