/**
 * The integer schemas shared by the config file and the REST API (src/zod-numbers.ts): the bounds
 * they hold and the message a person reads when a value is wrong.
 */
import { describe, expect, it } from 'vitest';
import { decimalInteger, intInRange, nonNegativeInt, port, positiveInt } from '../src/zod-numbers.js';
import type { ZodType } from 'zod';

function messages(schema: ZodType, value: unknown): string[] {
  return schema.safeParse(value).error?.issues.map((issue) => issue.message) ?? [];
}

describe('config integers', () => {
  it('positiveInt takes 1 and up, and quotes a wrong value with its unit', () => {
    expect(positiveInt('seconds').parse(1)).toBe(1);
    expect(messages(positiveInt('seconds'), 0)).toEqual(['expected a positive integer (seconds), got 0']);
    expect(messages(positiveInt('seconds'), 1.5)).toEqual(['expected a positive integer (seconds), got 1.5']);
    expect(messages(positiveInt('seconds'), '30')).toEqual(['expected a positive integer (seconds), got "30"']);
  });

  it('nonNegativeInt takes 0 and refuses below it', () => {
    expect(nonNegativeInt('retries').parse(0)).toBe(0);
    expect(messages(nonNegativeInt('retries'), -1)).toEqual(['expected a non-negative integer (retries), got -1']);
  });

  it('port takes 0 to 65535', () => {
    expect(port().parse(0)).toBe(0);
    expect(port().parse(65_535)).toBe(65_535);
    expect(messages(port(), 65_536)).toEqual(['expected a TCP port (0-65535), got 65536']);
    expect(messages(port(), -1)).toEqual(['expected a TCP port (0-65535), got -1']);
  });

  it('intInRange gives its one message for every failed check', () => {
    const schema = intInRange(1, 12, 'expected 1-12');
    expect(schema.parse(12)).toBe(12);
    for (const wrong of [0, 13, 2.5, 'seven']) expect(messages(schema, wrong)).toEqual(['expected 1-12']);
  });
});

describe('decimalInteger (query strings)', () => {
  const schema = decimalInteger(0, 100, 'expected an integer from 0 to 100');

  it('reads digits, and a number passed as one', () => {
    expect(schema.parse('42')).toBe(42);
    expect(schema.parse('007')).toBe(7);
    expect(schema.parse(5)).toBe(5);
  });

  it.each(['', '-1', '+1', '1e2', '0x10', '1.5', ' 1', '101'])('refuses %j', (text) => {
    expect(messages(schema, text)).toEqual(['expected an integer from 0 to 100']);
  });
});
