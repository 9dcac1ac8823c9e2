// database-under-test: none
import { describe, expect, it } from 'vitest';
import { isStatementTimeout } from '../../src/db/read-only.js';

describe('isStatementTimeout', () => {
  it('recognises a cancelled statement by its SQLSTATE or, through a pooler, by its message', () => {
    expect(isStatementTimeout(Object.assign(new Error('canceling statement due to user request'), { code: '57014' }))).toBe(true);
    expect(isStatementTimeout(new Error('canceling statement due to statement timeout'))).toBe(true);
    expect(isStatementTimeout(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    expect(isStatementTimeout('connection reset')).toBe(false);
    expect(isStatementTimeout(undefined)).toBe(false);
  });
});
