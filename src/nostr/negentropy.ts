/**
 * NIP-77 negentropy (protocol V1, version byte 0x61): range-based set reconciliation of event ids.
 *
 * The client calls `initiate()` and feeds every server reply to `reconcile()` until `next` is null; the
 * server answers each client message with `respond()`. Splitting (16 buckets, id lists below 32 records)
 * and the frame-size rules follow the reference implementation (hoytech/negentropy, used by strfry), so
 * our messages are byte-identical to its messages; test/fixtures/negentropy-vectors.json pins that down.
 */
import {
  compareBounds,
  FINGERPRINT_SIZE,
  ID_SIZE,
  INFINITE_BOUND,
  MessageReader,
  MessageWriter,
  messageFromHex,
  messageToHex,
  Mode,
  NegentropyError,
  PROTOCOL_VERSION,
  boundAt,
  type Bound,
} from './negentropy-codec.js';
import type { NegentropyStorage } from './negentropy-storage.js';

export { NegentropyError, PROTOCOL_VERSION } from './negentropy-codec.js';
export { NegentropyStorage, type NegentropyItem } from './negentropy-storage.js';

export interface NegentropyOptions {
  /** Largest message in bytes (before hex encoding); 0 = unlimited, otherwise at least 4096. */
  frameSizeLimit?: number;
}

export interface ReconcileResult {
  /** Next message for the server (hex), or null when reconciliation is complete. */
  next: string | null;
  /** Ids we have and the server lacks, found in this round. */
  have: string[];
  /** Ids the server has and we lack, found in this round. */
  need: string[];
}

const BUCKETS = 16;
/** Below this many records a range is sent as an id list rather than split further. */
const ID_LIST_THRESHOLD = BUCKETS * 2;
/** Room kept free under the frame size limit for the closing range, as in the reference. */
const FRAME_MARGIN = 200;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index += 1) if (a[index] !== b[index]) return false;
  return true;
}

/** What the client found in one round: ids only we have, ids only the server has. */
type Differences = { have: string[]; need: string[] };

/** Where the reading of one message stands; one object per message, updated range by range. */
interface RangeCursor {
  /** Where the current range starts: the previous range's bound and the index of its first record. */
  previousBound: Bound;
  previousIndex: number;
  /** Skipped ranges not written yet (a run of them is written as one, before the next answered range). */
  skipPending: boolean;
  /** The current range's bound and the index its records end at (lowered when an id list answer is cut). */
  bound: Bound;
  upper: number;
  /** The current range was answered with an id list, which is never withdrawn. */
  committed: boolean;
}

/** Ends a run of skipped ranges (which are coalesced) before a range that needs an answer. */
function writeSkip(out: MessageWriter, upperBound: Bound): void {
  out.writeBound(upperBound);
  out.writeVarint(Mode.Skip);
}

export class Negentropy {
  private role: 'unset' | 'client' | 'server' = 'unset';
  private readonly frameSizeLimit: number;
  // With frame size limits, reconciled ranges can be re-sent and re-reported; each id is reported once.
  private readonly reportedHave = new Set<string>();
  private readonly reportedNeed = new Set<string>();

  constructor(
    private readonly storage: NegentropyStorage,
    options: NegentropyOptions = {},
  ) {
    const limit = options.frameSizeLimit ?? 0;
    if (!Number.isSafeInteger(limit) || limit < 0 || (limit !== 0 && limit < 4096))
      throw new NegentropyError(`frameSizeLimit must be 0 (unlimited) or at least 4096, got ${limit}`);
    this.frameSizeLimit = limit;
  }

  /** Client: the first message, covering the whole (timestamp, id) space. */
  initiate(): string {
    if (this.role !== 'unset')
      throw new NegentropyError(`initiate() called on a ${this.role === 'client' ? 'client that already initiated' : 'server'}`);
    this.role = 'client';
    const out = new MessageWriter();
    out.writeByte(PROTOCOL_VERSION);
    this.splitRange(out, 0, this.storage.size, INFINITE_BOUND);
    return messageToHex(out.toBytes());
  }

  /** Client: processes a server message. */
  reconcile(messageHex: string): ReconcileResult {
    if (this.role !== 'client') throw new NegentropyError('reconcile() is for the client: call initiate() first');
    const have: string[] = [];
    const need: string[] = [];
    const out = this.process(messageFromHex(messageHex), { have, need });
    return { next: out.length === 1 ? null : messageToHex(out.toBytes()), have, need };
  }

  /** Server: the reply to a client message (just our version byte if the client's version is unsupported). */
  respond(messageHex: string): string {
    if (this.role === 'client') throw new NegentropyError('respond() is for the server, but this instance initiated as a client');
    this.role = 'server';
    return messageToHex(this.process(messageFromHex(messageHex), undefined).toBytes());
  }

  private exceedsFrame(length: number): boolean {
    return this.frameSizeLimit !== 0 && length > this.frameSizeLimit - FRAME_MARGIN;
  }

  /** `found` is present for the client, which collects differences instead of answering id lists. */
  private process(message: Uint8Array, found: Differences | undefined): MessageWriter {
    const reader = new MessageReader(message);
    const out = new MessageWriter();
    out.writeByte(PROTOCOL_VERSION);
    if (!this.speaksOurVersion(reader, found)) return out; // tells the client which version we speak

    const size = this.storage.size;
    const start = boundAt(0);
    // One cursor per message, reused for every range (no allocation per range).
    const cursor: RangeCursor = { previousBound: start, previousIndex: 0, skipPending: false, bound: start, upper: 0, committed: false };

    while (reader.remaining > 0) {
      const mark = out.mark();
      this.answerRange(reader, out, cursor, found);
      if (this.exceedsFrame(out.length)) {
        if (!cursor.committed) out.rewind(mark);
        // As in the reference, the closing fingerprint sums records from `upper` although its range starts
        // at the last bound written; the resulting mismatch makes the other side re-split the withdrawn
        // ranges. Kept so that frame-limited messages stay byte-identical to other implementations.
        out.writeBound(INFINITE_BOUND);
        out.writeVarint(Mode.Fingerprint);
        out.writeBytes(this.storage.fingerprint(cursor.upper, size));
        break;
      }
      cursor.previousIndex = cursor.upper;
      cursor.previousBound = cursor.bound;
    }
    return out;
  }

  /** Reads the version byte: false for another (valid) version, which a server answers with its own. */
  private speaksOurVersion(reader: MessageReader, found: Differences | undefined): boolean {
    if (reader.remaining === 0) throw new NegentropyError('empty message: the protocol version byte is missing');
    const version = reader.readByte();
    if (version < 0x60 || version > 0x6f)
      throw new NegentropyError(`invalid protocol version byte 0x${version.toString(16).padStart(2, '0')}`);
    if (version === PROTOCOL_VERSION) return true;
    if (found) throw new NegentropyError(`server asked for unsupported protocol version 0x${version.toString(16)}`);
    return false;
  }

  /** Reads one range (bound, mode, payload) and writes its answer; `cursor` says where it ends. */
  private answerRange(reader: MessageReader, out: MessageWriter, cursor: RangeCursor, found: Differences | undefined): void {
    const rangeStart = reader.position;
    const bound = reader.readBound();
    if (compareBounds(bound, cursor.previousBound) < 0) throw new NegentropyError(`range bounds out of order at byte ${rangeStart}`);
    const mode = reader.readVarint('range mode');
    const lower = cursor.previousIndex;
    cursor.bound = bound;
    cursor.upper = this.storage.lowerBound(lower, this.storage.size, bound);
    cursor.committed = false;

    if (mode === Mode.Skip) cursor.skipPending = true;
    else if (mode === Mode.Fingerprint) this.answerFingerprint(reader, out, cursor, lower);
    else if (mode === Mode.IdList) this.answerIdList(reader, out, cursor, lower, rangeStart, found);
    else throw new NegentropyError(`unknown range mode ${mode} at byte ${rangeStart}`);
  }

  /** A matching fingerprint is skipped (coalesced with its neighbours); a different one is split. */
  private answerFingerprint(reader: MessageReader, out: MessageWriter, cursor: RangeCursor, lower: number): void {
    const theirs = reader.readBytes(FINGERPRINT_SIZE, 'fingerprint');
    if (sameBytes(theirs, this.storage.fingerprint(lower, cursor.upper))) {
      cursor.skipPending = true;
      return;
    }
    if (cursor.skipPending) writeSkip(out, cursor.previousBound);
    cursor.skipPending = false;
    this.splitRange(out, lower, cursor.upper, cursor.bound);
  }

  /** The client collects the differences of an id list; the server answers with its own ids. */
  private answerIdList(
    reader: MessageReader,
    out: MessageWriter,
    cursor: RangeCursor,
    lower: number,
    rangeStart: number,
    found: Differences | undefined,
  ): void {
    const count = reader.readVarint('id list length');
    if (count * ID_SIZE > reader.remaining)
      throw new NegentropyError(`id list of ${count} ids at byte ${rangeStart} is truncated: ${reader.remaining} bytes left`);
    const ids = reader.readBytes(count * ID_SIZE, 'id list');
    if (found) {
      cursor.skipPending = true;
      this.collectDifferences(lower, cursor.upper, ids, found);
      return;
    }
    const committedLength = out.length;
    if (cursor.skipPending) writeSkip(out, cursor.previousBound);
    cursor.skipPending = false;
    cursor.upper = this.writeIdList(out, lower, cursor.upper, cursor.bound, committedLength);
    cursor.committed = true; // an id list answer is never withdrawn, only cut short
  }

  private splitRange(out: MessageWriter, lower: number, upper: number, upperBound: Bound): void {
    const count = upper - lower;
    if (count < ID_LIST_THRESHOLD) {
      out.writeBound(upperBound);
      out.writeVarint(Mode.IdList);
      out.writeVarint(count);
      out.writeBytes(this.storage.idBytes(lower, upper));
      return;
    }
    const perBucket = Math.floor(count / BUCKETS);
    const withExtra = count % BUCKETS;
    let current = lower;
    for (let bucket = 0; bucket < BUCKETS; bucket += 1) {
      const next = current + perBucket + (bucket < withExtra ? 1 : 0);
      const fingerprint = this.storage.fingerprint(current, next);
      out.writeBound(next === upper ? upperBound : this.storage.boundBefore(next));
      out.writeVarint(Mode.Fingerprint);
      out.writeBytes(fingerprint);
      current = next;
    }
  }

  /**
   * Server answer to an id list: all our ids in the range, cut where the frame would overflow (the
   * reference checks before each id against the output committed before this range). Returns the new
   * upper index: records from there on are left for the closing fingerprint.
   */
  private writeIdList(out: MessageWriter, lower: number, upper: number, bound: Bound, committedLength: number): number {
    let count = upper - lower;
    if (this.frameSizeLimit !== 0) {
      const room = this.frameSizeLimit - FRAME_MARGIN - committedLength;
      count = room < 0 ? 0 : Math.min(count, Math.floor(room / ID_SIZE) + 1);
    }
    const end = lower + count;
    out.writeBound(end === upper ? bound : this.storage.boundAtRecord(end));
    out.writeVarint(Mode.IdList);
    out.writeVarint(count);
    out.writeBytes(this.storage.idBytes(lower, end));
    return end;
  }

  private collectDifferences(lower: number, upper: number, ids: Uint8Array, found: Differences): void {
    const theirs = new Set<string>();
    const buffer = Buffer.from(ids.buffer, ids.byteOffset, ids.byteLength);
    for (let offset = 0; offset < ids.length; offset += ID_SIZE) theirs.add(buffer.toString('hex', offset, offset + ID_SIZE));
    for (let index = lower; index < upper; index += 1) {
      const id = this.storage.idHexAt(index);
      if (theirs.delete(id)) continue;
      if (!this.reportedHave.has(id)) {
        this.reportedHave.add(id);
        found.have.push(id);
      }
    }
    for (const id of theirs) {
      if (this.reportedNeed.has(id)) continue;
      this.reportedNeed.add(id);
      found.need.push(id);
    }
  }
}
