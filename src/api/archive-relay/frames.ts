/**
 * Writing a query's EVENT messages straight to the TCP socket as WebSocket frames, many to a buffer,
 * and measuring what a slow client makes us hold.
 */
import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';

/** EVENT messages are written to the socket in buffers of about this many bytes. */
const BATCH_BYTES = 64 * 1024;

/** Bytes of the EVENT messages of events[from..] (what a slow client makes us hold). */
export function heldSize(events: readonly string[], from: number, prefixBytes: number): number {
  let bytes = 0;
  for (let index = from; index < events.length; index += 1) bytes += prefixBytes + 1 + Buffer.byteLength(events[index] as string);
  return bytes;
}

/**
 * The TCP socket under a `ws` connection (its `_socket`), so that the EVENT messages of a query can
 * be written as one buffer of frames. Undefined if `ws` ever stops exposing it: then each message
 * goes through `ws.send`, as every other reply does.
 */
export function rawSocket(socket: WebSocket): Duplex | undefined {
  const raw = (socket as unknown as { _socket?: Partial<Duplex> })._socket;
  return raw && typeof raw.write === 'function' ? (raw as Duplex) : undefined;
}

/** Bytes of a frame header for a payload of `length` bytes. */
function headerBytes(length: number): number {
  return length < 126 ? 2 : length < 65_536 ? 4 : 10;
}

/** Writes a final, unmasked text frame's header at `offset`; returns the offset after it. */
function writeHeader(batch: Buffer, offset: number, length: number): number {
  batch[offset] = 0x81;
  if (length < 126) {
    batch[offset + 1] = length;
    return offset + 2;
  }
  if (length < 65_536) {
    batch[offset + 1] = 126;
    batch.writeUInt16BE(length, offset + 2);
    return offset + 4;
  }
  batch[offset + 1] = 127;
  batch.writeUInt32BE(0, offset + 2);
  batch.writeUInt32BE(length, offset + 6);
  return offset + 10;
}

/**
 * Writes EVENT messages events[from..] as RFC 6455 frames (final, text, unmasked as a server's are;
 * the `ws` server negotiates no extension: permessage-deflate is off) into one buffer, until it holds
 * BATCH_BYTES or the messages end; returns the index after the last one written. One write of many
 * frames instead of one `ws.send` (two writes) per message: measured, the per-message path spent a
 * sixth of the relay's CPU in writev and most of the rest in per-message bookkeeping.
 */
export function writeEventFrames(raw: Duplex, prefix: Buffer, events: readonly string[], from: number): number {
  let end = from;
  let total = 0;
  const lengths: number[] = [];
  while (end < events.length && total < BATCH_BYTES) {
    const length = prefix.length + Buffer.byteLength(events[end] as string) + 1;
    lengths.push(length);
    total += headerBytes(length) + length;
    end += 1;
  }
  const batch = Buffer.allocUnsafe(total);
  let offset = 0;
  for (let index = from; index < end; index += 1) {
    offset = writeHeader(batch, offset, lengths[index - from] as number);
    offset += prefix.copy(batch, offset);
    offset += batch.write(events[index] as string, offset);
    batch[offset] = 0x5d; // ]
    offset += 1;
  }
  raw.write(batch);
  return end;
}
