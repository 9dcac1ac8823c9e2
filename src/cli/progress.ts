/**
 * Progress of `sync --once` on stderr: every `intervalMs`, one line per relay that moved: events
 * stored, rate, and how far back in time the pass has reached. On by default on a terminal.
 */
import type { PassProgress } from '../services/sync/relay-sync.js';

const count = (value: number): string => value.toLocaleString('en-US');

interface RelayProgress {
  startedAt: number;
  latest: PassProgress;
  printed: number;
}

export interface ProgressReporter {
  update(progress: PassProgress): void;
  stop(): void;
}

export function createProgressReporter(write: (line: string) => void, intervalMs = 2_000): ProgressReporter {
  const relays = new Map<string, RelayProgress>();
  const print = () => {
    const now = Date.now();
    for (const [url, entry] of relays) {
      if (entry.latest.stored + entry.latest.newLinks === entry.printed) continue;
      entry.printed = entry.latest.stored + entry.latest.newLinks;
      const seconds = Math.max(0.001, (now - entry.startedAt) / 1000);
      const rate = Math.round(entry.latest.stored / seconds);
      const position =
        entry.latest.positionAt === undefined
          ? ''
          : `, reached ${new Date(entry.latest.positionAt * 1000).toISOString().replace('.000Z', 'Z')}`;
      const { stored, newLinks, method } = entry.latest;
      const protocol = method === 'negentropy' ? 'NIP-77' : 'REQ';
      write(`${url}: ${count(stored)} new events (${count(rate)}/s), ${count(newLinks)} new links, ${protocol}${position}`);
    }
  };
  const timer = setInterval(print, intervalMs);
  timer.unref();
  return {
    update(progress) {
      const entry = relays.get(progress.relayUrl);
      if (entry) entry.latest = progress;
      else relays.set(progress.relayUrl, { startedAt: Date.now(), latest: progress, printed: 0 });
    },
    stop() {
      clearInterval(timer);
      print();
    },
  };
}
