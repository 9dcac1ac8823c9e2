/**
 * The signatures a process has verified, remembered up to a bound, so a copy of an event from another
 * relay costs an id check, not a second Schnorr verification. Each entry keeps the whole signature
 * (its hex string, about 150 bytes; converting to bytes cost more main-thread time than the memory
 * it saved): a forged signature differs from the remembered one, so it is verified, and refused.
 *
 * Two generations of at most capacity/2 entries each: new entries go to the current one; when it is
 * full, it becomes the previous one and the old previous one is dropped whole. Evicting the oldest
 * entry one by one from a single Map (deleting from its front) costs V8 a walk over every deleted
 * slot on each eviction: 12 µs per remembered signature once the Map is full, more than the id check
 * it saves.
 */
export class KnownSignatures {
  private current = new Map<string, string>();
  private previous = new Map<string, string>();
  private readonly generationSize: number;

  constructor(capacity: number) {
    this.generationSize = capacity > 0 ? Math.max(1, Math.ceil(capacity / 2)) : 0;
  }

  /** Entries remembered (at most the capacity). */
  get size(): number {
    return this.current.size + this.previous.size;
  }

  has(id: string, sigHex: string): boolean {
    const remembered = this.current.get(id) ?? this.previous.get(id);
    return remembered !== undefined && remembered === sigHex;
  }

  remember(id: string, sigHex: string): void {
    if (this.generationSize === 0) return;
    if (this.current.size >= this.generationSize) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(id, sigHex);
  }
}
