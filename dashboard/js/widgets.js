/** Small pieces the pages share: times, tables, KPI cards, sections, relay links and badges. */
import { h } from './dom.js';
import { fmtAgo, fmtDate, fmtDuration, fmtInt, lagTone, num, plain } from './format.js';

/** A relative time with the exact UTC time as tooltip. */
export function timeEl(ms, relative = true) {
  if (ms === null) return '—';
  const iso = new Date(ms).toISOString();
  return h('time', { datetime: iso, title: `${iso.replace('T', ' ').slice(0, 19)} UTC` }, relative ? fmtAgo(ms) : fmtDate(ms));
}

const relayHref = (url) => `#/relay?url=${encodeURIComponent(url)}`;
export const relayLink = (url) => h('a', { href: relayHref(url), class: 'relay-link' }, url);

export function statusBadge(up) {
  if (up === true) return h('span', { class: 'badge up' }, 'up');
  if (up === false) return h('span', { class: 'badge down' }, 'down');
  return h('span', { class: 'badge' }, 'unchecked');
}

export function lagCell(seconds) {
  if (num(seconds) === null) return h('td', { class: `num ${lagTone(null)}` }, 'not yet');
  return h('td', { class: `num ${lagTone(seconds)}`, dataset: { lagSeconds: String(seconds) } }, fmtDuration(seconds));
}

/** `headers`: a title, or `[title, class]` for a column with a class (`num` aligns right). */
export function table(id, headers, rows) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { id },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          headers.map((header) => (Array.isArray(header) ? h('th', { class: header[1] }, header[0]) : h('th', {}, header))),
        ),
      ),
      h('tbody', {}, rows),
    ),
  );
}

export const emptyRow = (columns, text) => h('tr', {}, h('td', { class: 'empty-row', colspan: columns }, text));

export function kpi(key, label, value, sub, tone) {
  return h(
    'div',
    {
      class: `card kpi${tone ? ` ${tone}` : ''}`,
      dataset: { kpi: key, value: value === null || value === undefined ? '' : String(value) },
    },
    h('div', { class: 'label' }, label),
    h('div', { class: 'value' }, typeof value === 'number' ? fmtInt(value) : plain(value)),
    sub ? h('div', { class: 'sub' }, sub) : null,
  );
}

export const section = (title, tools, ...body) =>
  h('section', { class: 'section' }, h('div', { class: 'section-head' }, h('h2', {}, title), h('span', { class: 'spacer' }), tools), body);
