/** `#/events?…`: the event search form, and matching events as JSON, newest first, in pages of 20. */
import { h, main } from '../dom.js';
import { fromUnix, kindLabel, plain } from '../format.js';
import { load } from '../load.js';
import { timeEl } from '../widgets.js';

const SEARCH_FIELDS = [
  ['ids', 'Event ids', 'hex, comma-separated'],
  ['authors', 'Authors', 'hex pubkeys, comma-separated'],
  ['kinds', 'Kinds', 'e.g. 1,7'],
  ['#t', 'Hashtag (#t)', 'e.g. nostr'],
  ['relay', 'Seen on relay', 'wss://…'],
];

function eventCard(event) {
  return h(
    'article',
    { class: 'card event' },
    h(
      'div',
      { class: 'event-head' },
      h('span', { class: 'badge' }, `kind ${kindLabel(event.kind)}`),
      timeEl(fromUnix(event.created_at), false),
      h('span', { class: 'mono' }, `id ${plain(event.id, 64).slice(0, 16)}…`),
    ),
    h('pre', { class: 'json' }, JSON.stringify(event)),
  );
}

/** The form: submitting it puts the filled fields in the address (the same address again searches again). */
function searchForm(ctx, params) {
  const inputs = new Map(
    SEARCH_FIELDS.map(([key, , placeholder]) => [
      key,
      h('input', { name: key, placeholder, value: params.get(key) ?? '', autocomplete: 'off', spellcheck: 'false' }),
    ]),
  );
  const submit = (event) => {
    event.preventDefault();
    const query = new URLSearchParams();
    for (const [key, input] of inputs) if (input.value.trim()) query.set(key, input.value.trim());
    const target = `#/events${query.size ? `?${query}` : ''}`;
    if (location.hash === target) ctx.reload();
    else location.hash = target;
  };
  return h(
    'form',
    { class: 'card search-form', id: 'event-search', onsubmit: submit },
    SEARCH_FIELDS.map(([key, label]) => h('label', { class: 'field' }, label, inputs.get(key))),
    h('button', { type: 'submit', class: 'primary' }, 'Search'),
  );
}

export async function eventsPage(ctx, params) {
  const results = h('div', { class: 'events', id: 'event-results' });
  const more = h('button', { type: 'button', hidden: true }, 'More events');
  main.replaceChildren(
    h('h2', {}, 'Event search'),
    h('p', { class: 'note' }, 'All fields combine (AND); comma-separated values are alternatives (OR). Newest first.'),
    searchForm(ctx, params),
    results,
    h('div', { class: 'more-row' }, more),
  );

  const query = new URLSearchParams();
  for (const [key] of SEARCH_FIELDS) if (params.get(key)) query.set(key, params.get(key));
  if (query.size === 0) {
    results.append(h('p', { class: 'muted' }, 'Enter a filter to search the archive.'));
    return 'events';
  }
  let cursor = null;
  const loadPage = async () => {
    const page = new URLSearchParams(query);
    page.set('limit', '20');
    if (cursor) page.set('cursor', cursor);
    more.disabled = true;
    await load(ctx, `/v1/events?${page}`, (data) => {
      const events = data.events ?? [];
      if (events.length === 0 && !cursor) results.append(h('p', { class: 'muted' }, 'No events match.'));
      results.append(...events.map(eventCard));
      cursor = data.next_cursor ?? null;
      more.hidden = !cursor;
    });
    more.disabled = false;
  };
  more.addEventListener('click', () => loadPage());
  await loadPage();
  return 'events';
}
