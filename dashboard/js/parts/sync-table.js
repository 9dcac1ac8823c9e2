/** The overview's sync progress: how far each relay is archived, most behind first (the API's order). */
import { h } from '../dom.js';
import { fmtAgo, fromIso, fromUnix, num, plain } from '../format.js';
import { emptyRow, lagCell, relayLink, table, timeEl } from '../widgets.js';

function breakerCell(row) {
  const benched = fromIso(row.benched_until);
  return h(
    'td',
    { class: 'reason' },
    benched !== null && benched > Date.now()
      ? h('span', { class: 'badge warn', title: 'circuit breaker: not synced until then' }, `benched ${fmtAgo(benched)}`)
      : null,
    row.last_error ? h('div', { class: 'sub' }, plain(row.last_error, 300)) : null,
  );
}

export function syncTable(relays) {
  const rows = (relays ?? []).map((row) =>
    h(
      'tr',
      {},
      h('td', { class: 'url' }, relayLink(row.url)),
      h('td', {}, timeEl(fromUnix(row.completed_until), false)),
      lagCell(num(row.lag_seconds)),
      h('td', {}, timeEl(fromIso(row.last_full_pass_at))),
      h('td', {}, timeEl(fromIso(row.updated_at))),
      breakerCell(row),
    ),
  );
  return h(
    'div',
    {},
    table(
      'sync-table',
      ['Relay', 'Archived until', ['Lag', 'num'], 'Last full pass', 'Updated', 'Circuit breaker'],
      rows.length ? rows : emptyRow(6, 'no relay synced yet'),
    ),
  );
}
