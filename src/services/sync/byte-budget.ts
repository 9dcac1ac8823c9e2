/**
 * A process-wide bound on the bytes of events held between fetching and committing: every relay pass
 * of the process takes its batches' weight from one budget before queueing them and gives it back at
 * commit, so a few relays serving huge events wait for each other instead of multiplying memory.
 * A batch larger than the whole budget is let through alone (when nothing else is held), so nothing
 * can wait forever.
 */
export interface ByteBudget {
  readonly capacity: number;
  readonly held: number;
  /** Waits until `bytes` fit, then holds them; call the returned function to give them back. */
  acquire(bytes: number, signal?: AbortSignal): Promise<() => void>;
}

export function createByteBudget(capacity: number): ByteBudget {
  let held = 0;
  const waiters: { bytes: number; grant: () => void }[] = [];
  const fits = (bytes: number) => held === 0 || held + bytes <= capacity;
  const wake = () => {
    while (waiters.length > 0 && fits((waiters[0] as { bytes: number }).bytes)) (waiters.shift() as { grant: () => void }).grant();
  };
  return {
    capacity,
    get held() {
      return held;
    },
    acquire(bytes, signal) {
      const take = () => {
        held += bytes;
        let released = false;
        return () => {
          if (released) return;
          released = true;
          held -= bytes;
          wake();
        };
      };
      if (waiters.length === 0 && fits(bytes)) return Promise.resolve(take());
      return new Promise((resolve, reject) => {
        const waiter = {
          bytes,
          grant: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve(take());
          },
        };
        const onAbort = () => {
          const index = waiters.indexOf(waiter);
          if (index >= 0) waiters.splice(index, 1);
          reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        waiters.push(waiter);
      });
    },
  };
}

/** About the JSON size of events (content and tag strings plus the fixed fields), without serialising them. */
export function approximateBytes(events: readonly { content: string; tags: string[][] }[]): number {
  let bytes = 0;
  for (const event of events) {
    bytes += 300 + event.content.length;
    for (const tag of event.tags) for (const value of tag) bytes += value.length + 3;
  }
  return bytes;
}
