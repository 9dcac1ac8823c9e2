import { redactText } from '../observability/redact.js';

/**
 * A database failure: connection refused or lost, timeout, SQL error. The message never carries the
 * connection password (URLs in driver messages are scrubbed). `code` is the SQLSTATE when there is one.
 */
export class DatabaseError extends Error {
  readonly code: string | undefined;

  constructor(message: string, options: { cause?: unknown; code?: string } = {}) {
    super(redactText(message));
    this.name = 'DatabaseError';
    this.code = options.code;
    // The driver's error may quote the URL; keep its class and code, not its text.
    if (options.cause instanceof Error) {
      const cause = options.cause;
      this.cause = { name: cause.name, code: (cause as { code?: unknown }).code, message: redactText(cause.message) };
    }
    if (this.stack) this.stack = redactText(this.stack);
  }

  /**
   * The database's own trouble, whatever the data: connection problems, insufficient resources (53:
   * disk full, out of memory), cancelled statements and operator intervention (57), transaction
   * rollbacks (40: serialization, deadlock), system errors (58). Not a reason to blame a relay.
   */
  get isDatabaseFault(): boolean {
    return this.isConnectionError || /^(53|57|40|58)/.test(this.code ?? '');
  }

  /** Connection-level problems (refused, reset, terminated, timeout) are worth retrying. */
  get isConnectionError(): boolean {
    return (
      this.code === undefined ||
      this.code.startsWith('08') ||
      this.code === '57P01' ||
      this.code === '57P03' ||
      this.code === 'ECONNREFUSED' ||
      this.code === 'ECONNRESET' ||
      this.code === 'ETIMEDOUT'
    );
  }
}

export function wrapDatabaseError(error: unknown, what: string): DatabaseError {
  if (error instanceof DatabaseError) return error;
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message : String(error);
  return new DatabaseError(`${what}: ${message}`, { cause: error, code: typeof code === 'string' ? code : undefined });
}

/**
 * No pooled connection became free within `database.connect_timeout_ms`, or too many requests were
 * already waiting for one: the database is busy, not broken. The API answers 503 with Retry-After.
 */
export class DatabaseBusyError extends DatabaseError {
  constructor(message: string) {
    super(message);
    this.name = 'DatabaseBusyError';
  }
}
