// database-under-test: none
import { describe, expect, it } from 'vitest';
import { errorMessage } from '../src/error-message.js';

describe('errorMessage', () => {
  it('gives the message of an Error, of an object with one, or the thrown value as text', () => {
    expect(errorMessage(new TypeError('bad input'))).toBe('bad input');
    expect(errorMessage({ message: 'from a plain object', code: 'E1' })).toBe('from a plain object');
    expect(errorMessage('a rejected string')).toBe('a rejected string');
    expect(errorMessage(undefined)).toBe('undefined');
    expect(errorMessage({ message: 42 })).toBe('[object Object]');
  });
});
