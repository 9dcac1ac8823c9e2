/** COUNT (NIP-45): how many stored events match the filters. */
import { countQuery } from '../../../db/event-query.js';
import type { ParsedFilters } from '../../../nostr/client-filters.js';
import { readOnly } from '../../api-query.js';
import type { RelayContext } from '../context.js';
import type { ClientCommand } from '../messages.js';
import { TOO_MANY_IN_PROGRESS, type Session } from '../session.js';
import { answerFailure } from './query-failure.js';

export function handleCount(context: RelayContext, session: Session, { subId, filters }: Extract<ClientCommand, { type: 'COUNT' }>): void {
  if (!context.requestRate.allows(session.address)) {
    session.reply(['CLOSED', subId, context.requestRate.refusal]);
    return;
  }
  if (!filters.ok) {
    session.reply(['CLOSED', subId, filters.reason]);
    return;
  }
  if (!session.enqueue(() => runCount(context, session, subId, filters.value))) {
    session.reply(['CLOSED', subId, TOO_MANY_IN_PROGRESS]);
  }
}

async function runCount(context: RelayContext, session: Session, subId: string, parsed: ParsedFilters): Promise<void> {
  if (!session.isOpen) return;
  let count: number;
  try {
    const query = countQuery(parsed.filters);
    const { rows } = await readOnly(context.db, context.statementTimeoutMs, (tx) =>
      tx.query<{ count: number | string }>(query.text, query.values),
    );
    count = Number(rows[0]?.count ?? 0);
  } catch (error) {
    answerFailure(context.log, session, subId, error, 'count', true);
    return;
  }
  session.reply(['COUNT', subId, { count }]);
}
