/**
 * Hash routes: `#/` overview, `#/relay?url=<encoded>` one relay, `#/events?…` event search.
 * `body[data-ready]` names the page once all of its data is loaded and its charts are drawn.
 */
import { clearErrors, reportError } from './banner.js';
import { destroyCharts } from './charts.js';
import { eventsPage } from './pages/events.js';
import { notFoundPage } from './pages/not-found.js';
import { overviewPage } from './pages/overview.js';
import { relayPage } from './pages/relay.js';

/** Page name -> its renderer, which resolves to the name to put in `body[data-ready]`. */
const PAGES = { overview: overviewPage, relay: relayPage, events: eventsPage, notfound: notFoundPage };

let generation = 0;
let controller = null;

function nextFrame() {
  return new Promise((resolve) => requestAnimationFrame(() => resolve()));
}

function pageName(path) {
  return path === '/' || path === '' ? 'overview' : path === '/relay' ? 'relay' : path === '/events' ? 'events' : 'notfound';
}

/** Renders the page the address names; answers for a page the user has left since are dropped. */
export async function route() {
  const mine = ++generation;
  controller?.abort();
  controller = new AbortController();
  const ctx = { signal: controller.signal, stale: () => mine !== generation, reload: () => route() };
  delete document.body.dataset.ready;
  clearErrors();
  destroyCharts();

  const hash = location.hash.replace(/^#/, '') || '/';
  const at = hash.indexOf('?');
  const path = at < 0 ? hash : hash.slice(0, at);
  const params = new URLSearchParams(at < 0 ? '' : hash.slice(at + 1));
  const page = pageName(path);
  for (const link of document.querySelectorAll('[data-nav]')) link.classList.toggle('active', link.dataset.nav === page);
  document.title = page === 'relay' && params.get('url') ? `${params.get('url')} · bigbrotr` : 'bigbrotr · Nostr network archive';
  window.scrollTo(0, 0);

  let ready = page;
  try {
    ready = await PAGES[page](ctx, params);
  } catch (error) {
    if (!ctx.stale()) reportError(error, 'rendering the page');
  }
  if (ctx.stale()) return;
  await nextFrame();
  if (!ctx.stale()) document.body.dataset.ready = ready;
}
