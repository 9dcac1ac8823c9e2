/** A query the archive could not answer: logged in full, told to the client in safe words. */
import { wrapDatabaseError } from '../../../db/errors.js';
import type { Logger } from '../../../observability/logger.js';
import { isStatementTimeout } from '../../../db/read-only.js';
import { ApiTimeoutError } from '../../api-query.js';
import type { Session } from '../session.js';

/** Why the database failed, in words safe to show a client (no SQL, no connection details). */
function failureSummary(error: unknown): string {
  if (error instanceof ApiTimeoutError || isStatementTimeout(error)) return 'query timed out';
  return 'internal error';
}

/** Logs a failed query (the log is redacted) and tells the client, without details, if it still listens. */
export function answerFailure(log: Logger, session: Session, subId: string, error: unknown, what: string, stillWanted: boolean): void {
  log.warn({ err: wrapDatabaseError(error, `archive relay ${what}`) }, `archive relay ${what} failed`);
  if (stillWanted && session.isOpen) session.reply(['CLOSED', subId, `error: the archive could not answer (${failureSummary(error)})`]);
}
