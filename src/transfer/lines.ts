/**
 * Lines of a byte stream, each at most `maxBytes` long: a longer line is skipped (reported as too
 * long) without ever being held whole, so a file with one 10 GB line costs no more memory than any
 * other. `\n` ends a line; a trailing `\r` is dropped; the last line needs no newline.
 */
import type { Readable } from 'node:stream';

export type Line = { text: string; number: number } | { tooLong: true; number: number };

export async function* boundedLines(input: Readable, maxBytes: number): AsyncGenerator<Line> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let skipping = false;
  let number = 0;
  const finish = (tail: Buffer): Line => {
    number += 1;
    if (skipping) {
      skipping = false;
      pending = [];
      pendingBytes = 0;
      return { tooLong: true, number };
    }
    let bytes = pending.length > 0 ? Buffer.concat([...pending, tail]) : tail;
    pending = [];
    pendingBytes = 0;
    if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
    return { text: bytes.toString('utf8'), number };
  };
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    let data = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    for (let newline = data.indexOf(0x0a); newline !== -1; newline = data.indexOf(0x0a)) {
      const head = data.subarray(0, newline);
      if (!skipping && pendingBytes + head.length > maxBytes) skipping = true;
      yield finish(head);
      data = data.subarray(newline + 1);
    }
    if (data.length === 0) continue;
    if (skipping) continue;
    if (pendingBytes + data.length > maxBytes) {
      skipping = true;
      pending = [];
      pendingBytes = 0;
      continue;
    }
    pending.push(Buffer.from(data)); // a copy: the chunk's buffer may be reused by the stream
    pendingBytes += data.length;
  }
  if (skipping || pendingBytes > 0) yield finish(Buffer.alloc(0));
}
