/**
 * Every API read runs in a read-only transaction with a statement timeout (src/db/read-only.ts), so a
 * heavy query is cancelled (503) instead of holding a connection, and the API can never write.
 */
import type { Database, Queryable } from '../db/database.js';
import { isStatementTimeout, readOnlyTransaction } from '../db/read-only.js';

export class ApiTimeoutError extends Error {
  constructor() {
    super('the archive did not answer in time');
    this.name = 'ApiTimeoutError';
  }
}

/** A read-only transaction whose statement timeout surfaces as ApiTimeoutError (answered 503). */
export async function readOnly<T>(db: Database, statementTimeoutMs: number, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  try {
    return await readOnlyTransaction(db, statementTimeoutMs, fn);
  } catch (error) {
    if (isStatementTimeout(error)) throw new ApiTimeoutError();
    throw error;
  }
}
