import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boundedLines, type Line } from '../../src/transfer/lines.js';

async function collect(chunks: Buffer[], maxBytes: number): Promise<Line[]> {
  const lines: Line[] = [];
  for await (const line of boundedLines(Readable.from(chunks), maxBytes)) lines.push(line);
  return lines;
}

/** What the lines should be: split on \n, drop one trailing \r, too-long by UTF-8 bytes, no empty last line. */
function expected(text: string, maxBytes: number): Line[] {
  const parts = text.split('\n');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts.map((part, index) => {
    const body = part.endsWith('\r') ? part.slice(0, -1) : part;
    return Buffer.byteLength(part, 'utf8') > maxBytes ? { tooLong: true, number: index + 1 } : { text: body, number: index + 1 };
  });
}

describe('boundedLines', () => {
  it('gives the lines of any text, however it is cut into chunks, and marks the long ones', async () => {
    const text = fc
      .array(fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('\n', '\r\n', 'é🧡', 'x'.repeat(50))), { maxLength: 40 })
      .map((parts) => parts.join(''));
    await fc.assert(
      fc.asyncProperty(
        text,
        fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 5, max: 60 }),
        async (input, cuts, maxBytes) => {
          const bytes = Buffer.from(input, 'utf8');
          const chunks: Buffer[] = [];
          for (let at = 0, index = 0; at < bytes.length; index += 1) {
            const size = cuts[index % cuts.length] as number;
            chunks.push(bytes.subarray(at, at + size));
            at += size;
          }
          expect(await collect(chunks, maxBytes)).toEqual(expected(input, maxBytes));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never holds a long line whole', async () => {
    // 64 MB in one line, then a short one: the short one still comes through.
    const chunk = Buffer.alloc(1 << 20, 0x61);
    const chunks = [...Array.from({ length: 64 }, () => chunk), Buffer.from('\n{"ok":1}\n')];
    const before = process.memoryUsage().rss;
    const lines = await collect(chunks, 1_024);
    expect(lines).toEqual([
      { tooLong: true, number: 1 },
      { text: '{"ok":1}', number: 2 },
    ]);
    expect(process.memoryUsage().rss - before).toBeLessThan(48 * 2 ** 20);
  });
});
