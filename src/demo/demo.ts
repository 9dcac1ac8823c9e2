/**
 * `bigbrotr demo`: a whole bigbrotr on one machine with no network. A handful of relays (the test
 * relay shipped in src/test-relay) on 127.0.0.1, filled with generated events whose relay lists point
 * at each other; a fresh embedded archive; only the first relay seeded. Every service runs with short
 * intervals, so within a minute the finder has discovered the other relays, the validator promoted
 * them, the monitor checked them and the synchronizer archived them, all visible on the dashboard.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/loader.js';
import type { Logger } from '../observability/logger.js';
import { runAll } from '../run-all.js';
import type { SupervisorResult } from '../services/supervisor.js';
import { startTestRelay, type TestRelay } from '../test-relay/server.js';
import { demoEvents } from './demo-events.js';

export interface DemoOptions {
  relays: number;
  eventsPerRelay: number;
  /** HTTP port of the dashboard (0: any free port). */
  port: number;
  /** Keep the archive here (default: a temporary directory removed at the end). */
  dataDir?: string;
  logLevel?: string;
  logger: Logger;
  signal?: AbortSignal;
  onReady?: (info: { dashboardUrl: string; relayUrls: string[]; dataDir: string }) => void;
}

export async function runDemo(options: DemoOptions): Promise<SupervisorResult> {
  const scratch = mkdtempSync(join(tmpdir(), 'bigbrotr-demo-'));
  const relays: TestRelay[] = [];
  try {
    for (let index = 0; index < options.relays; index += 1) {
      relays.push(
        await startTestRelay({
          negentropy: index % 2 === 0,
          maxLimit: 200,
          nip11: {
            name: `demo relay ${index + 1}`,
            description: 'A local relay started by bigbrotr demo, filled with generated events.',
            language_tags: ['en'],
            tags: ['demo'],
          },
        }),
      );
    }
    const relayUrls = relays.map((relay) => relay.url);
    const events = demoEvents(relayUrls, options.eventsPerRelay);
    relays.forEach((relay, index) => relay.addEvents(events[index] ?? []));
    const seedFile = join(scratch, 'seed.txt');
    writeFileSync(seedFile, `# bigbrotr demo: only the first relay; the others are discovered\n${relayUrls[0]}\n`);
    const dataDir = options.dataDir ?? join(scratch, 'archive');

    // The demo ignores the environment and config files: it always runs on its own fresh embedded archive.
    const loaded = loadConfig({
      env: {},
      overrides: {
        'database.data_dir': dataDir,
        'log.level': options.logLevel ?? 'info',
        'seed.file': seedFile,
        'http.port': options.port,
        'relay_url.allow_private': true,
        'finder.interval_seconds': 3,
        'finder.scan_lag_seconds': 0,
        'validator.idle_poll_seconds': 2,
        'validator.probe_timeout_ms': 3_000,
        'monitor.idle_poll_seconds': 3,
        'monitor.interval_seconds': 60,
        'sync.idle_poll_seconds': 2,
        'sync.interval_seconds': 30,
        'verify.workers': 1,
        'api.stats_cache_seconds': 2,
      },
    });
    return await runAll({
      loaded,
      logger: options.logger,
      signal: options.signal,
      onReady: ({ healthUrl }) => options.onReady?.({ dashboardUrl: `${healthUrl ?? ''}/`, relayUrls, dataDir }),
    });
  } finally {
    await Promise.all(relays.map((relay) => relay.close()));
    rmSync(scratch, { recursive: true, force: true });
  }
}
