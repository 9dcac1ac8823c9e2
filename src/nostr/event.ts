/** A Nostr event as defined by NIP-01, exactly as a relay sent it (after shape validation). */
export interface NostrEvent {
  /** 64 lowercase hex: sha256 of the canonical serialization. */
  id: string;
  /** 64 lowercase hex: x-only secp256k1 public key of the author. */
  pubkey: string;
  /** Unix time in seconds, as claimed by the author. */
  created_at: number;
  /** 0..65535 */
  kind: number;
  /** Arrays of strings; the first element is the tag name. Order is significant for the id. */
  tags: string[][];
  content: string;
  /** 128 lowercase hex: BIP-340 Schnorr signature of the id. */
  sig: string;
}
