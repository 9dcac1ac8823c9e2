import { describe, expect, it } from 'vitest';
import { superviseServices } from '../../src/services/supervisor.js';
import type { Service } from '../../src/services/service.js';
import { silentLogger } from '../../src/observability/logger.js';

function waitingService(name: string, log: string[], stopDelayMs = 0): Service {
  return {
    name,
    run: (signal) =>
      new Promise<void>((resolve) => {
        log.push(`${name} started`);
        signal.addEventListener(
          'abort',
          () =>
            setTimeout(() => {
              log.push(`${name} stopped`);
              resolve();
            }, stopDelayMs),
          { once: true },
        );
      }),
  };
}

describe('superviseServices', () => {
  it('stops every service on request and waits for them', async () => {
    const log: string[] = [];
    const controller = new AbortController();
    const done = superviseServices({
      services: [waitingService('a', log), waitingService('b', log, 50)],
      logger: silentLogger(),
      graceMs: () => 5_000,
      signal: controller.signal,
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort();
    const result = await done;
    expect(result).toEqual({ stoppedBy: 'stop requested', failed: [], abandoned: false });
    expect(log.sort()).toEqual(['a started', 'a stopped', 'b started', 'b stopped']);
  });

  it('stops on SIGTERM and reloads on SIGHUP', async () => {
    const log: string[] = [];
    let reloads = 0;
    const done = superviseServices({
      services: [waitingService('a', log)],
      logger: silentLogger(),
      graceMs: () => 5_000,
      onReload: () => {
        reloads += 1;
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    process.kill(process.pid, 'SIGHUP');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(reloads).toBe(1);
    process.kill(process.pid, 'SIGTERM');
    const result = await done;
    expect(result.stoppedBy).toBe('SIGTERM');
    expect(log).toEqual(['a started', 'a stopped']);
    expect(process.listenerCount('SIGHUP')).toBe(0);
  });

  it('keeps running after one service fails, reports it, and abandons a service that ignores the grace period', async () => {
    const log: string[] = [];
    const controller = new AbortController();
    const failing: Service = {
      name: 'broken',
      run: async () => {
        throw new Error('boom');
      },
    };
    const stubborn: Service = { name: 'stubborn', run: () => new Promise<void>(() => {}) };
    const done = superviseServices({
      services: [failing, stubborn, waitingService('ok', log)],
      logger: silentLogger(),
      graceMs: () => 100,
      signal: controller.signal,
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(log).toEqual(['ok started']);
    controller.abort();
    const result = await done;
    expect(result.failed).toEqual(['broken']);
    expect(result.abandoned).toBe(true);
    expect(log).toEqual(['ok started', 'ok stopped']);
  });
});
