/** The overview's relays table with its status filter and "more" button (keyset pages by next_cursor). */
import { apiPage } from '../api.js';
import { h } from '../dom.js';
import { fmtInt, fmtMs, fromIso, plain, shortSoftware, truncate } from '../format.js';
import { load } from '../load.js';
import { emptyRow, relayLink, statusBadge, timeEl } from '../widgets.js';

const PAGE = 50;
const STATUSES = [
  ['', 'all statuses'],
  ['up', 'up'],
  ['down', 'down'],
  ['unchecked', 'unchecked'],
];

function relayRow(relay) {
  const software = shortSoftware(relay.software);
  return h(
    'tr',
    { dataset: { url: relay.url } },
    h('td', { class: 'url' }, relayLink(relay.url), relay.name ? h('div', { class: 'sub relay-name' }, plain(relay.name, 120)) : null),
    h('td', {}, statusBadge(relay.up)),
    h('td', { class: 'num' }, fmtMs(relay.rtt_open_ms)),
    h(
      'td',
      {},
      software ? truncate(software, 40) : '—',
      relay.version ? h('span', { class: 'muted' }, ` ${truncate(String(relay.version), 20)}`) : null,
    ),
    h('td', {}, plain(relay.country, 8)),
    h('td', {}, plain(relay.network)),
    h('td', {}, timeEl(fromIso(relay.last_checked_at))),
  );
}

function relaysCard(tbody, more) {
  const headers = ['Relay', 'Status', ['Open RTT', 'num'], 'Software', 'Country', 'Network', 'Last check'];
  return h(
    'div',
    { class: 'card' },
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { id: 'relays-table' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            headers.map((header) => (Array.isArray(header) ? h('th', { class: header[1] }, header[0]) : h('th', {}, header))),
          ),
        ),
        tbody,
      ),
    ),
    h('div', { class: 'more-row' }, more),
  );
}

export function relayList(ctx) {
  const status = h(
    'select',
    { id: 'relay-status', 'aria-label': 'Filter by status' },
    STATUSES.map(([value, text]) => h('option', { value }, text)),
  );
  const tbody = h('tbody');
  const more = h('button', { id: 'relays-more', type: 'button', hidden: true }, 'More relays');
  const count = h('span', { class: 'muted', id: 'relays-count' });
  let cursor = null;
  let generation = 0;
  let shown = 0;

  const show = (data, reset) => {
    if (reset) {
      tbody.replaceChildren();
      shown = 0;
    }
    const rows = data.relays ?? [];
    shown += rows.length;
    tbody.append(...rows.map(relayRow));
    if (shown === 0) tbody.append(emptyRow(7, status.value ? `no relay is ${status.value}` : 'no relays yet'));
    cursor = data.next_cursor ?? null;
    more.hidden = !cursor;
    count.textContent = `${fmtInt(shown)} shown${cursor ? ', more available' : ''}`;
  };

  async function loadPage(reset) {
    const mine = reset ? ++generation : generation;
    if (reset) cursor = null;
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (status.value) params.set('status', status.value);
    if (cursor) params.set('cursor', cursor);
    more.disabled = true;
    await load(
      ctx,
      (signal) => apiPage('/v1/relays', params, signal),
      (data) => {
        if (mine === generation) show(data, reset);
      },
    );
    more.disabled = false;
  }

  status.addEventListener('change', () => loadPage(true));
  more.addEventListener('click', () => loadPage(false));
  return { tools: [count, status], body: relaysCard(tbody, more), load: loadPage };
}
