/**
 * Every API read runs in a read-only transaction with a statement timeout, so a heavy query is
 * cancelled (503) instead of holding a connection, and the API can never write.
 */
import type { Database, Queryable } from '../db/database.js';
import { errorMessage } from '../error-message.js';

export class ApiTimeoutError extends Error {
  constructor() {
    super('the archive did not answer in time');
    this.name = 'ApiTimeoutError';
  }
}

/** Whether the database cancelled a statement for running past its statement_timeout (57014 query_canceled, or its message through a pooler). */
export function isStatementTimeout(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === '57014' || /statement timeout/i.test(errorMessage(error));
}

export async function readOnly<T>(db: Database, statementTimeoutMs: number, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  try {
    return await db.transaction(async (tx) => {
      await tx.exec(`SET LOCAL statement_timeout = ${Math.floor(statementTimeoutMs)}; SET LOCAL transaction_read_only = on`);
      return fn(tx);
    });
  } catch (error) {
    if (isStatementTimeout(error)) throw new ApiTimeoutError();
    throw error;
  }
}
