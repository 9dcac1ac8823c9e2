/** REQ/COUNT requests per client address in the last minute (a sliding window), for relay_requests_per_minute. */

const MINUTE_MS = 60_000;

export class RequestRate {
  /** REQ/COUNT timestamps per address in the last minute. */
  private readonly times = new Map<string, number[]>();

  /** `perMinute` 0: no limit. */
  constructor(private readonly perMinute: number) {}

  /** The CLOSED reason of a request over the rate. */
  get refusal(): string {
    return `rate-limited: more than ${this.perMinute} requests a minute from this address`;
  }

  /** True when the address may send another REQ/COUNT this minute (and counts it). */
  allows(address: string): boolean {
    if (this.perMinute === 0) return true;
    const now = Date.now();
    const times = (this.times.get(address) ?? []).filter((time) => now - time < MINUTE_MS);
    if (times.length >= this.perMinute) {
      this.times.set(address, times);
      return false;
    }
    times.push(now);
    this.times.set(address, times);
    return true;
  }

  /** Forgets the addresses that sent nothing in the last minute. */
  forgetIdle(): void {
    const minuteAgo = Date.now() - MINUTE_MS;
    for (const [address, times] of this.times) if ((times[times.length - 1] ?? 0) < minuteAgo) this.times.delete(address);
  }
}
