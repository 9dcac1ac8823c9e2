/**
 * Reads for others (the REST API, the archive relay, the data vending machine) run in a read-only
 * transaction with a statement timeout, so a heavy query is cancelled instead of holding a
 * connection, and nothing a client asks for can write.
 */
import type { Database, Queryable } from './database.js';
import { errorMessage } from '../error-message.js';

export function readOnlyTransaction<T>(db: Database, statementTimeoutMs: number, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.exec(`SET LOCAL statement_timeout = ${Math.floor(statementTimeoutMs)}; SET LOCAL transaction_read_only = on`);
    return fn(tx);
  });
}

/**
 * Whether the database cancelled a statement for running past its statement_timeout
 * (57014 query_canceled, or its message through a pooler).
 */
export function isStatementTimeout(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === '57014' || /statement timeout/i.test(errorMessage(error));
}
