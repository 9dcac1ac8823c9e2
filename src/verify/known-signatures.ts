/**
 * The signatures a process has verified, remembered up to a bound (the oldest forgotten first), so a
 * copy of an event from another relay costs an id check, not a second Schnorr verification. Each
 * entry keeps the whole signature (as 64 one-byte characters): a forged signature differs from the
 * remembered one, so it is verified, and refused.
 */
export class KnownSignatures {
  private readonly entries = new Map<string, string>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  has(id: string, sigHex: string): boolean {
    const remembered = this.entries.get(id);
    return remembered !== undefined && remembered === compact(sigHex);
  }

  remember(id: string, sigHex: string): void {
    if (this.capacity <= 0) return;
    if (this.entries.has(id)) this.entries.delete(id); // refresh: most recently seen last
    else if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(id, compact(sigHex));
  }
}

/** 128 hex characters → 64 one-byte characters (half the memory of the hex string). */
function compact(sigHex: string): string {
  return Buffer.from(sigHex, 'hex').toString('latin1');
}
