/**
 * The bigbrotr dashboard: a plain ES module, no build step, no framework. Chart.js 4 (UMD build,
 * global `Chart`) is loaded by a classic script before this one.
 *
 * Hash routes: `#/` overview, `#/relay?url=<encoded>` one relay, `#/events?…` event search.
 * `body[data-ready]` names the page once all of its data is loaded and its charts are drawn.
 *
 * Everything the API returns is untrusted (relays write it): it reaches the page only as text nodes
 * and attribute values (`h()` below), never as HTML, and only links the dashboard builds itself.
 */
/* global document, window, location, fetch, requestAnimationFrame, getComputedStyle, Node, URLSearchParams, AbortController */

const main = document.getElementById('main');
const errorBox = document.getElementById('error');
const ChartJs = globalThis.Chart;
const PAGE = 50;
const PALETTE = ['#3b5bdb', '#1f9d55', '#f08c00', '#d64545', '#7048e8', '#1098ad', '#d6336c', '#74b816', '#5c7cfa', '#868e96'];
const CHECK_ORDER = ['open', 'read', 'write', 'nip11', 'dns', 'ssl', 'geo', 'requirements', 'claims'];
const KIND_NAMES = {
  0: 'profile',
  1: 'note',
  3: 'follows',
  4: 'DM (NIP-04)',
  5: 'deletion',
  6: 'repost',
  7: 'reaction',
  8: 'badge award',
  13: 'seal',
  14: 'chat message',
  16: 'generic repost',
  40: 'channel',
  41: 'channel meta',
  42: 'channel message',
  1059: 'gift wrap',
  1063: 'file',
  1111: 'comment',
  1311: 'live chat',
  1984: 'report',
  9734: 'zap request',
  9735: 'zap',
  9802: 'highlight',
  10000: 'mute list',
  10002: 'relay list',
  10050: 'DM relays',
  10166: 'monitor announce',
  13194: 'wallet info',
  22242: 'auth',
  24133: 'nostr connect',
  27235: 'HTTP auth',
  30000: 'follow set',
  30023: 'article',
  30078: 'app data',
  30166: 'relay discovery',
  30311: 'live event',
  31922: 'calendar date',
  31923: 'calendar time',
  34550: 'community',
};

// ---------------------------------------------------------------------------------------------
// DOM: elements from props and children; strings become text nodes, never markup.
// ---------------------------------------------------------------------------------------------

function h(tag, props, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') element.className = value;
    else if (key === 'dataset') Object.assign(element.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') element.addEventListener(key.slice(2), value);
    else element.setAttribute(key, value === true ? '' : String(value));
  }
  add(element, children);
  return element;
}

function add(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** Any API value as short display text (objects as JSON). */
function plain(value, max = 600) {
  if (value === undefined || value === null || value === '') return '—';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);
const num = (value) => (value === null || value === undefined || value === '' || !Number.isFinite(Number(value)) ? null : Number(value));

// ---------------------------------------------------------------------------------------------
// Formatting (times in UTC, so every viewer reads the same thing)
// ---------------------------------------------------------------------------------------------

const integer = new Intl.NumberFormat('en-US');
const fmtInt = (value) => (num(value) === null ? '—' : integer.format(num(value)));
const fmtMs = (value) => (num(value) === null ? '—' : `${integer.format(Math.round(num(value)))} ms`);
const fmtPct = (value) => (num(value) === null ? '—' : `${(num(value) * 100).toFixed(num(value) === 1 ? 0 : 1)} %`);
const fromIso = (value) => (typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? Date.parse(value) : null);
const fromUnix = (value) => (num(value) === null ? null : num(value) * 1000);
const isoMinutes = (ms) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
const fmtDate = (ms) => (ms === null ? '—' : `${isoMinutes(ms)} UTC`);
const shortTime = (ms) => new Date(ms).toISOString().slice(5, 16).replace('T', ' ');

function fmtDuration(seconds) {
  if (num(seconds) === null) return '—';
  const total = Math.max(0, Math.round(num(seconds)));
  if (total < 60) return `${total} s`;
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

function fmtAgo(ms) {
  if (ms === null) return '—';
  const seconds = (Date.now() - ms) / 1000;
  if (Math.abs(seconds) < 5) return 'just now';
  return seconds >= 0 ? `${fmtDuration(seconds)} ago` : `in ${fmtDuration(-seconds)}`;
}

/** A relative time with the exact UTC time as tooltip. */
function timeEl(ms, relative = true) {
  if (ms === null) return '—';
  const iso = new Date(ms).toISOString();
  return h('time', { datetime: iso, title: `${iso.replace('T', ' ').slice(0, 19)} UTC` }, relative ? fmtAgo(ms) : fmtDate(ms));
}

function shortSoftware(value) {
  if (typeof value !== 'string' || !value) return null;
  return value
    .replace(/^git\+/i, '')
    .replace(/^(https?:\/\/)?(www\.)?(github\.com\/|gitlab\.com\/|git\.)?/i, '')
    .replace(/\.git$/i, '');
}

const truncate = (text, max) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
const kindLabel = (kind) => (KIND_NAMES[kind] ? `${kind} · ${KIND_NAMES[kind]}` : String(kind));

// ---------------------------------------------------------------------------------------------
// API and errors
// ---------------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(path, status, body, cause) {
    const detail = isObject(body) && typeof body.message === 'string' ? body.message : (cause ?? 'unexpected answer');
    super(`${status ? `HTTP ${status}` : 'network error'}: ${detail}`);
    this.path = path;
    this.status = status;
    this.body = body;
  }
}

async function api(path, signal) {
  let response;
  try {
    response = await fetch(path, { headers: { accept: 'application/json' }, signal });
  } catch (error) {
    throw new ApiError(path, 0, null, error instanceof Error ? error.message : String(error));
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok || !isObject(body))
    throw new ApiError(path, response.status, body, response.ok ? 'the answer is not a JSON object' : undefined);
  return body;
}

/** A paged list with `limit`; if the server caps pages lower (400 on limit), its default page size. */
async function apiPage(path, params, signal) {
  try {
    return await api(`${path}?${params}`, signal);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 400 || error.body?.parameter !== 'limit') throw error;
    const fallback = new URLSearchParams(params);
    fallback.delete('limit');
    return api(`${path}?${fallback}`, signal);
  }
}

function showError(message) {
  errorBox.hidden = false;
  errorBox.append(h('p', {}, h('strong', {}, 'Error: '), message));
}

function reportError(error, what) {
  if (error?.name === 'AbortError') return;
  const message =
    error instanceof ApiError
      ? `${what ?? error.path} failed (${error.message})`
      : `${what ?? 'the dashboard'} failed: ${error instanceof Error ? error.message : String(error)}`;
  showError(message);
}

window.addEventListener('error', (event) => reportError(event.error ?? event.message, 'a script'));
window.addEventListener('unhandledrejection', (event) => {
  event.preventDefault();
  reportError(event.reason, 'a background task');
});

/**
 * Loads one resource for the current page and hands it to `render`; a failure goes to the banner
 * (and to `fail`), never further. Answers for a page the user has left are dropped.
 */
async function load(ctx, path, render, fail) {
  try {
    const data = typeof path === 'function' ? await path(ctx.signal) : await api(path, ctx.signal);
    if (ctx.stale()) return;
    render(data);
  } catch (error) {
    if (ctx.stale()) return;
    reportError(error, typeof path === 'string' ? `GET ${path}` : undefined);
    try {
      fail?.(error);
    } catch {
      // the fallback display itself failed; the banner already says what went wrong
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Charts
// ---------------------------------------------------------------------------------------------

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

if (ChartJs) {
  ChartJs.defaults.font.family = cssVar('--font') || 'sans-serif';
  ChartJs.defaults.color = cssVar('--muted') || '#666';
  ChartJs.defaults.borderColor = cssVar('--grid') || '#eee';
  ChartJs.defaults.animation = false;
  ChartJs.defaults.maintainAspectRatio = false;
  ChartJs.defaults.plugins.legend.labels.boxWidth = 12;
  ChartJs.defaults.plugins.tooltip.displayColors = true;
}

/** A card with a titled canvas (stable id) and a "no data yet" placeholder. */
function chartCard(id, title, { wide = false, note, tools } = {}) {
  const canvas = h('canvas', { id, role: 'img', 'aria-label': title });
  const box = h('div', { class: 'chart-box' }, canvas, h('p', { class: 'empty-note' }, 'loading…'));
  const card = h(
    'section',
    { class: `card chart-card${wide ? ' wide' : ''}` },
    h('header', { class: 'card-head' }, h('h3', {}, title), tools),
    box,
    note ? h('p', { class: 'note' }, note) : null,
  );
  return { card, box, canvas };
}

function markEmpty(slot, note = 'no data yet') {
  ChartJs?.getChart(slot.canvas)?.destroy();
  slot.box.classList.add('empty');
  slot.box.querySelector('.empty-note').textContent = note;
}

function draw(slot, config) {
  if (!ChartJs) {
    markEmpty(slot, 'charts unavailable (Chart.js did not load)');
    return;
  }
  ChartJs.getChart(slot.canvas)?.destroy();
  slot.box.classList.remove('empty');
  new ChartJs(slot.canvas, config);
}

function destroyCharts() {
  if (!ChartJs) return;
  for (const chart of Object.values(ChartJs.instances)) chart.destroy();
}

const timeAxis = (min, max) => ({
  type: 'linear',
  min,
  max,
  ticks: { maxTicksLimit: 8, maxRotation: 0, callback: (value) => shortTime(value) },
  grid: { display: false },
});
const countAxis = (title) => ({ beginAtZero: true, ticks: { precision: 0 }, title: title ? { display: true, text: title } : undefined });
const timeTitle = { title: (items) => (items.length ? fmtDate(items[0].parsed.x) : '') };

function barChart(slot, labels, values, { label, horizontal = false, colors } = {}) {
  draw(slot, {
    type: 'bar',
    data: {
      labels: labels.map((text) => truncate(String(text), 32)),
      datasets: [{ label, data: values, backgroundColor: colors ?? PALETTE[0], borderRadius: 3, maxBarThickness: 38 }],
    },
    options: {
      indexAxis: horizontal ? 'y' : 'x',
      plugins: { legend: { display: false } },
      scales: horizontal ? { x: countAxis(), y: { grid: { display: false } } } : { x: { grid: { display: false } }, y: countAxis() },
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Small pieces
// ---------------------------------------------------------------------------------------------

const relayHref = (url) => `#/relay?url=${encodeURIComponent(url)}`;
const relayLink = (url) => h('a', { href: relayHref(url), class: 'relay-link' }, url);

function statusBadge(up) {
  if (up === true) return h('span', { class: 'badge up' }, 'up');
  if (up === false) return h('span', { class: 'badge down' }, 'down');
  return h('span', { class: 'badge' }, 'unchecked');
}

function lagCell(seconds) {
  if (num(seconds) === null) return h('td', { class: 'num lag-bad' }, 'not yet');
  const tone = seconds < 3600 ? 'lag-ok' : seconds < 86_400 ? 'lag-warn' : 'lag-bad';
  return h('td', { class: `num ${tone}`, dataset: { lagSeconds: String(seconds) } }, fmtDuration(seconds));
}

function table(id, headers, rows) {
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

const emptyRow = (columns, text) => h('tr', {}, h('td', { class: 'empty-row', colspan: columns }, text));

function kpi(key, label, value, sub, tone) {
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

const section = (title, tools, ...body) =>
  h('section', { class: 'section' }, h('div', { class: 'section-head' }, h('h2', {}, title), h('span', { class: 'spacer' }), tools), body);

// ---------------------------------------------------------------------------------------------
// Overview
// ---------------------------------------------------------------------------------------------

async function overviewPage(ctx) {
  const kpis = h('section', { id: 'kpis', class: 'kpis', 'aria-label': 'Archive summary' });
  const uptime = chartCard('chart-uptime', 'Relays up and down, last 7 days', {
    wide: true,
    note: 'Relays whose WebSocket open check succeeded or failed, per hour (UTC).',
  });
  const latency = chartCard('chart-latency', 'Open latency of relays that are up', { note: 'Latest WebSocket open round trip per relay.' });
  const countries = chartCard('chart-countries', 'Top countries', { note: 'Relays by the country of their IP address (not retired).' });
  const software = chartCard('chart-software', 'Top relay software', {
    note: 'From the latest NIP-11 document of each relay (not retired).',
  });
  const basis = h('div', { class: 'seg', role: 'group', 'aria-label': 'Count events by' });
  const perDay = chartCard('chart-events-per-day', 'Events per day, last 30 days', { tools: basis, note: 'UTC days.' });
  const kinds = chartCard('chart-kinds', 'Events per kind', { note: 'The 20 most common kinds in the archive.' });
  const breakdown = h('p', { class: 'note', id: 'relay-breakdown' });
  const syncWrap = h('div', { class: 'card' }, h('p', { class: 'muted' }, 'loading…'));
  const relays = relayList(ctx);

  main.replaceChildren(
    kpis,
    h('div', { class: 'grid' }, uptime.card, latency.card, countries.card, software.card, perDay.card, kinds.card),
    section('Sync progress', h('span', { class: 'muted' }, 'how far each relay is archived; most behind first'), syncWrap),
    section('Relays', relays.tools, breakdown, relays.body),
  );

  let basisNow = 'created';
  const loadPerDay = () =>
    load(
      ctx,
      `/v1/stats/events-per-day?days=30&basis=${basisNow}`,
      (data) => drawPerDay(perDay, data.days),
      () => markEmpty(perDay, 'could not load'),
    );
  for (const [value, text] of [
    ['created', 'created'],
    ['archived', 'archived'],
  ]) {
    basis.append(
      h(
        'button',
        {
          type: 'button',
          'aria-pressed': String(value === basisNow),
          title: value === 'created' ? 'by the created_at the author signed' : 'by when bigbrotr archived them',
          onclick: (event) => {
            if (basisNow === value) return;
            basisNow = value;
            for (const button of basis.children) button.setAttribute('aria-pressed', String(button === event.currentTarget));
            loadPerDay();
          },
        },
        text,
      ),
    );
  }

  await Promise.allSettled([
    load(
      ctx,
      '/v1/stats',
      (stats) => renderKpis(kpis, stats),
      () => kpis.append(h('p', { class: 'muted' }, 'summary unavailable')),
    ),
    load(
      ctx,
      '/v1/stats/uptime?hours=168',
      (data) => drawUptime(uptime, data.hours, 168),
      () => markEmpty(uptime, 'could not load'),
    ),
    load(
      ctx,
      '/v1/stats/latency',
      (data) => drawLatency(latency, data.buckets),
      () => markEmpty(latency, 'could not load'),
    ),
    load(
      ctx,
      '/v1/stats/relays?limit=10',
      (data) => {
        drawBreakdown(software, data.software, true);
        drawBreakdown(countries, data.countries, false);
        const part = (title, groups) =>
          `${title}: ${(groups ?? []).map((group) => `${plain(group.value, 40)} ${fmtInt(group.relays)}`).join(' · ') || '—'}`;
        breakdown.textContent = `${part('Networks', data.networks)}    ${part('States', data.states)}`;
      },
      () => {
        markEmpty(software, 'could not load');
        markEmpty(countries, 'could not load');
      },
    ),
    loadPerDay(),
    load(
      ctx,
      '/v1/stats/kinds?limit=20',
      (data) => drawKinds(kinds, data.kinds),
      () => markEmpty(kinds, 'could not load'),
    ),
    load(
      ctx,
      '/v1/stats/sync?limit=100',
      (data) => syncWrap.replaceChildren(syncTable(data.relays)),
      () => syncWrap.replaceChildren(h('p', { class: 'muted' }, 'could not load')),
    ),
    relays.load(true),
  ]);
  return 'overview';
}

function renderKpis(container, stats) {
  const pairs = num(stats.event_relay_pairs);
  const unique = num(stats.unique_events);
  const newest = fromUnix(stats.newest_created_at);
  const archived = fromIso(stats.last_archived_at);
  container.replaceChildren(
    kpi(
      'unique_events',
      'Unique events',
      unique,
      stats.oldest_created_at ? `since ${fmtDate(fromUnix(stats.oldest_created_at)).slice(0, 10)}` : 'none archived yet',
    ),
    kpi(
      'event_relay_pairs',
      'Event–relay pairs',
      pairs,
      unique ? `${(pairs / unique).toFixed(2)} relays per event` : 'where each event was seen',
    ),
    kpi('relays_up', 'Relays up', num(stats.relays_up), `of ${fmtInt(stats.relays)} known · ${fmtInt(stats.active_relays)} active`, 'good'),
    kpi('relays_down', 'Relays down', num(stats.relays_down), 'latest open check failed', num(stats.relays_down) ? 'bad' : undefined),
    kpi('checks', 'Monitor checks', num(stats.checks), 'NIP-11, open, read, write, DNS, TLS, geo'),
    kpi(
      'newest_created_at',
      'Newest event',
      newest === null ? null : fmtAgo(newest),
      newest === null ? 'none yet' : `${fmtDate(newest)}${archived === null ? '' : ` · archived ${fmtAgo(archived)}`}`,
    ),
  );
  const newestCard = container.querySelector('[data-kpi="newest_created_at"]');
  if (newestCard)
    newestCard.dataset.value =
      stats.newest_created_at === null || stats.newest_created_at === undefined ? '' : String(stats.newest_created_at);
}

function drawUptime(slot, hours, windowHours) {
  const points = (hours ?? [])
    .map((row) => ({ x: fromIso(row.hour), up: num(row.up) ?? 0, down: num(row.down) ?? 0 }))
    .filter((point) => point.x !== null);
  if (points.length === 0) return markEmpty(slot, 'no data yet (no open checks in the last 7 days)');
  const max = Date.now();
  const min = Math.min(max - windowHours * 3_600_000, ...points.map((point) => point.x));
  const line = (label, key, color, fill) => ({
    label,
    data: points.map((point) => ({ x: point.x, y: point[key] })),
    borderColor: color,
    backgroundColor: `${color}${fill ? '2e' : ''}`,
    fill,
    pointRadius: points.length > 60 ? 0 : 3,
    cubicInterpolationMode: 'monotone',
    spanGaps: true,
  });
  draw(slot, {
    type: 'line',
    data: { datasets: [line('up', 'up', cssVar('--up') || '#1f9d55', true), line('down', 'down', cssVar('--down') || '#d64545', false)] },
    options: {
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      scales: { x: timeAxis(min, max), y: countAxis('relays') },
      plugins: { tooltip: { callbacks: timeTitle } },
    },
  });
}

function drawLatency(slot, buckets) {
  const rows = buckets ?? [];
  if (!rows.some((row) => num(row.relays) > 0)) return markEmpty(slot, 'no data yet (no relay is up)');
  let previous = 0;
  const labels = rows.map((row) => {
    const bound = num(row.le_ms);
    const label =
      bound === null
        ? `> ${previous >= 1000 ? `${previous / 1000} s` : `${previous} ms`}`
        : `≤ ${bound >= 1000 ? `${bound / 1000} s` : `${bound} ms`}`;
    if (bound !== null) previous = bound;
    return label;
  });
  const colors = rows.map((row) => {
    const bound = num(row.le_ms);
    return bound !== null && bound <= 200 ? PALETTE[1] : bound !== null && bound <= 1000 ? PALETTE[2] : PALETTE[3];
  });
  barChart(
    slot,
    labels,
    rows.map((row) => num(row.relays) ?? 0),
    { label: 'relays', colors },
  );
}

function drawBreakdown(slot, groups, horizontal) {
  const rows = (groups ?? []).filter((group) => num(group.relays) > 0);
  if (rows.length === 0) return markEmpty(slot);
  barChart(
    slot,
    rows.map((group) => plain(group.value, 60)),
    rows.map((group) => num(group.relays)),
    { label: 'relays', horizontal, colors: rows.map((_, index) => PALETTE[index % PALETTE.length]) },
  );
}

function drawPerDay(slot, days) {
  const counts = new Map((days ?? []).map((row) => [row.day, num(row.events) ?? 0]));
  if (![...counts.values()].some((value) => value > 0)) return markEmpty(slot, 'no data yet (no events in the last 30 days)');
  const labels = [];
  const today = new Date();
  for (let offset = 29; offset >= 0; offset -= 1)
    labels.push(new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - offset)).toISOString().slice(0, 10));
  barChart(
    slot,
    labels.map((day) => day.slice(5)),
    labels.map((day) => counts.get(day) ?? 0),
    { label: 'events' },
  );
}

function drawKinds(slot, kinds) {
  const rows = kinds ?? [];
  if (rows.length === 0) return markEmpty(slot);
  barChart(
    slot,
    rows.map((row) => kindLabel(row.kind)),
    rows.map((row) => num(row.events) ?? 0),
    { label: 'events', colors: PALETTE[4] },
  );
}

function syncTable(relays) {
  const rows = (relays ?? []).map((row) =>
    h(
      'tr',
      {},
      h('td', { class: 'url' }, relayLink(row.url)),
      h('td', {}, timeEl(fromUnix(row.completed_until), false)),
      lagCell(num(row.lag_seconds)),
      h('td', {}, timeEl(fromIso(row.last_full_pass_at))),
      h('td', {}, timeEl(fromIso(row.updated_at))),
      h(
        'td',
        { class: 'reason' },
        fromIso(row.benched_until) !== null && fromIso(row.benched_until) > Date.now()
          ? h(
              'span',
              { class: 'badge warn', title: 'circuit breaker: not synced until then' },
              `benched ${fmtAgo(fromIso(row.benched_until))}`,
            )
          : null,
        row.last_error ? h('div', { class: 'sub' }, plain(row.last_error, 300)) : null,
      ),
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

/** The relays table with its status filter and "more" button (keyset pages by next_cursor). */
function relayList(ctx) {
  const status = h(
    'select',
    { id: 'relay-status', 'aria-label': 'Filter by status' },
    [
      ['', 'all statuses'],
      ['up', 'up'],
      ['down', 'down'],
      ['unchecked', 'unchecked'],
    ].map(([value, text]) => h('option', { value }, text)),
  );
  const tbody = h('tbody');
  const more = h('button', { id: 'relays-more', type: 'button', hidden: true }, 'More relays');
  const count = h('span', { class: 'muted', id: 'relays-count' });
  let cursor = null;
  let generation = 0;
  let shown = 0;

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
        if (mine !== generation) return;
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
      },
    );
    more.disabled = false;
  }

  status.addEventListener('change', () => loadPage(true));
  more.addEventListener('click', () => loadPage(false));
  const body = h(
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
            h('th', {}, 'Relay'),
            h('th', {}, 'Status'),
            h('th', { class: 'num' }, 'Open RTT'),
            h('th', {}, 'Software'),
            h('th', {}, 'Country'),
            h('th', {}, 'Network'),
            h('th', {}, 'Last check'),
          ),
        ),
        tbody,
      ),
    ),
    h('div', { class: 'more-row' }, more),
  );
  return { tools: [count, status], body, load: loadPage };
}

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

// ---------------------------------------------------------------------------------------------
// One relay
// ---------------------------------------------------------------------------------------------

async function relayPage(ctx, params) {
  const url = params.get('url');
  const back = h('a', { href: '#/', class: 'back' }, '← Overview');
  if (!url) {
    main.replaceChildren(back, h('p', {}, 'No relay given: open a relay from the overview.'));
    showError('no relay URL in the address (#/relay?url=…)');
    return 'relay';
  }
  const badges = h('div', { class: 'badges' });
  const kpis = h('section', { id: 'relay-kpis', class: 'kpis section', 'aria-label': 'Uptime and latency' });
  const nip11 = h('div', { id: 'relay-nip11' }, h('p', { class: 'muted' }, 'loading…'));
  const sync = h('div', { id: 'relay-sync' }, h('p', { class: 'muted' }, 'loading…'));
  const checks = h('div', { class: 'card section' }, h('p', { class: 'muted' }, 'loading…'));
  const claims = h('div', { class: 'card section' }, h('p', { class: 'muted' }, 'loading…'));
  const rtt = chartCard('chart-relay-rtt', 'Open round trip and failures', {
    wide: true,
    note: 'Each WebSocket open check (latest 500): round trip of successes; failures marked on the axis.',
  });

  main.replaceChildren(
    h('section', { class: 'relay-head' }, back, h('h2', { id: 'relay-url' }, url), badges),
    kpis,
    h(
      'div',
      { class: 'grid' },
      rtt.card,
      h('section', { class: 'card' }, h('header', { class: 'card-head' }, h('h3', {}, 'NIP-11 document')), nip11),
      h('section', { class: 'card' }, h('header', { class: 'card-head' }, h('h3', {}, 'Sync and health')), sync),
    ),
    section('Latest checks', null, checks),
    section(
      'Claims against behaviour',
      h('span', { class: 'note' }, 'what its NIP-11 document claims, tested by the monitor and seen by the synchronizer'),
      claims,
    ),
  );

  await Promise.allSettled([
    load(
      ctx,
      `/v1/relays/detail?url=${encodeURIComponent(url)}`,
      (detail) => {
        const relay = detail.relay ?? {};
        const latest = isObject(detail.checks) ? detail.checks : {};
        const open = latest.open;
        badges.replaceChildren(
          statusBadge(open ? open.ok === true : null),
          h('span', { class: 'badge', title: 'state' }, plain(relay.state)),
          h('span', { class: 'badge', title: 'network' }, plain(relay.network)),
          h(
            'span',
            { class: 'muted' },
            `discovered ${fmtAgo(fromIso(relay.discovered_at))} from ${plain(relay.discovered_from, 80)} · mentioned ${fmtInt(relay.mention_count)}×`,
          ),
          h('a', { href: `#/events?${new URLSearchParams({ relay: url })}` }, 'events seen here →'),
        );
        renderRelayKpis(kpis, detail.uptime, open);
        renderNip11(nip11, latest.nip11);
        renderSync(sync, detail.sync, detail.health);
        checks.replaceChildren(checksTable(latest));
        claims.replaceChildren(claimsTable(detail.claims));
      },
      () => {
        for (const element of [nip11, sync, checks, claims]) element.replaceChildren(h('p', { class: 'muted' }, 'could not load'));
      },
    ),
    load(
      ctx,
      (signal) => apiPage('/v1/relays/checks', new URLSearchParams({ url, type: 'open', limit: '500' }), signal),
      (data) => drawRelayRtt(rtt, data.checks),
      () => markEmpty(rtt, 'could not load'),
    ),
  ]);
  return 'relay';
}

function renderRelayKpis(container, uptime, open) {
  const u = isObject(uptime) ? uptime : {};
  const tone = (value) => (num(value) === null ? undefined : num(value) >= 0.95 ? 'good' : num(value) < 0.5 ? 'bad' : undefined);
  container.replaceChildren(
    kpi('availability_24h', 'Uptime 24 hours', fmtPct(u.availability_24h), 'share of open checks that succeeded', tone(u.availability_24h)),
    kpi('availability_7d', 'Uptime 7 days', fmtPct(u.availability_7d), null, tone(u.availability_7d)),
    kpi('availability_30d', 'Uptime 30 days', fmtPct(u.availability_30d), `${fmtInt(u.checks_30d)} open checks`, tone(u.availability_30d)),
    kpi(
      'median_rtt_open_7d_ms',
      'Median open RTT',
      fmtMs(u.median_rtt_open_7d_ms),
      open?.rtt_ms != null ? `latest ${fmtMs(open.rtt_ms)}` : '7 days',
    ),
    kpi('median_rtt_read_7d_ms', 'Median read RTT', fmtMs(u.median_rtt_read_7d_ms), 'REQ to EOSE, 7 days'),
    kpi('median_rtt_write_7d_ms', 'Median write RTT', fmtMs(u.median_rtt_write_7d_ms), 'EVENT to OK, 7 days'),
  );
}

function renderNip11(container, check) {
  if (!check) return container.replaceChildren(h('p', { class: 'muted' }, 'No NIP-11 document fetched yet.'));
  if (!check.ok)
    return container.replaceChildren(
      h('p', {}, h('span', { class: 'badge down' }, 'failed'), ' ', plain(check.reason, 300)),
      h('p', { class: 'note' }, 'checked ', timeEl(fromIso(check.checked_at))),
    );
  const doc = isObject(check.data) ? check.data : {};
  const props = h('dl', { class: 'props' });
  const row = (label, value, field) => props.append(h('dt', {}, label), h('dd', { dataset: field ? { field } : undefined }, value));
  const list = (value) => (Array.isArray(value) ? value.map((item) => plain(item, 40)).join(', ') : plain(value));
  row('Name', plain(doc.name, 200), 'name');
  row('Description', plain(doc.description, 1_000), 'description');
  row('Software', plain(doc.software, 200), 'software');
  row('Version', plain(doc.version, 100), 'version');
  if (doc.pubkey) row('Public key', h('span', { class: 'mono' }, plain(doc.pubkey, 100)));
  if (doc.contact) row('Contact', plain(doc.contact, 200));
  const nips = Array.isArray(doc.supported_nips) ? doc.supported_nips.slice(0, 300) : [];
  row(
    'Supported NIPs',
    nips.length
      ? h(
          'div',
          { class: 'chips' },
          nips.map((nip) => h('span', { class: 'chip' }, typeof nip === 'number' ? String(nip).padStart(2, '0') : plain(nip, 12))),
        )
      : '—',
    'supported_nips',
  );
  if (isObject(doc.limitation) && Object.keys(doc.limitation).length) {
    row(
      'Limitation',
      h(
        'table',
        { class: 'kv' },
        h(
          'tbody',
          {},
          Object.entries(doc.limitation)
            .slice(0, 40)
            .map(([key, value]) => h('tr', {}, h('td', {}, plain(key, 60)), h('td', {}, plain(value, 200)))),
        ),
      ),
      'limitation',
    );
  } else row('Limitation', '—', 'limitation');
  if (doc.relay_countries) row('Relay countries', list(doc.relay_countries));
  if (doc.language_tags) row('Languages', list(doc.language_tags));
  if (doc.tags) row('Tags', list(doc.tags));
  if (doc.posting_policy) row('Posting policy', plain(doc.posting_policy, 300));
  if (doc.payments_url) row('Payments', plain(doc.payments_url, 300));
  if (doc.fees) row('Fees', plain(doc.fees, 400));
  container.replaceChildren(
    props,
    h('p', { class: 'note' }, 'fetched ', timeEl(fromIso(check.checked_at)), check.rtt_ms != null ? ` in ${fmtMs(check.rtt_ms)}` : ''),
  );
}

function renderSync(container, sync, health) {
  const props = h('dl', { class: 'props' });
  const row = (label, ...value) => props.append(h('dt', {}, label), h('dd', {}, value));
  if (isObject(sync)) {
    row('Archived until', timeEl(fromUnix(sync.completed_until), false));
    const lag = num(sync.lag_seconds);
    row(
      'Lag',
      h(
        'span',
        { class: lag === null ? 'lag-bad' : lag < 3600 ? 'lag-ok' : lag < 86_400 ? 'lag-warn' : 'lag-bad', id: 'relay-lag' },
        lag === null ? 'no pass completed yet' : fmtDuration(lag),
      ),
    );
    row('Last full pass', timeEl(fromIso(sync.last_full_pass_at)));
    row('Cursor updated', timeEl(fromIso(sync.updated_at)));
  } else row('Sync', 'not synced yet');
  if (isObject(health)) {
    const benched = fromIso(health.benched_until);
    row('Consecutive failures', fmtInt(health.consecutive_failures));
    if (benched !== null && benched > Date.now()) row('Benched', h('span', { class: 'badge warn' }, `until ${fmtDate(benched)}`));
    row('Last success', timeEl(fromIso(health.last_success_at)));
    if (health.last_error) row('Last error', plain(health.last_error, 400));
  }
  container.replaceChildren(props);
}

/** One line of the facts a check saw (DNS answers, certificate expiry, place, …). */
function checkSummary(type, check) {
  const data = isObject(check.data) ? check.data : {};
  const detail = isObject(check.detail) ? check.detail : {};
  const parts = [];
  const list = (value) =>
    Array.isArray(value)
      ? value
          .slice(0, 8)
          .map((item) => plain(item, 60))
          .join(', ')
      : null;
  if (type === 'dns') {
    if (list(data.a)) parts.push(`A ${list(data.a)}`);
    if (list(data.aaaa)) parts.push(`AAAA ${list(data.aaaa)}`);
    if (num(detail.ttl_a) !== null) parts.push(`TTL ${fmtDuration(detail.ttl_a)}`);
  } else if (type === 'ssl') {
    const days = num(detail.days_to_expiry);
    if (data.valid_to) parts.push(`expires ${fmtDate(fromIso(data.valid_to)).slice(0, 10)}${days === null ? '' : ` (${days} d)`}`);
    if (data.issuer_organization || data.issuer) parts.push(`issuer ${plain(data.issuer_organization ?? data.issuer, 80)}`);
    if (detail.protocol) parts.push(plain(detail.protocol, 20));
    if (data.subject) parts.push(`subject ${plain(data.subject, 80)}`);
  } else if (type === 'geo') {
    for (const key of ['country', 'city', 'continent']) if (data[key]) parts.push(plain(data[key], 60));
    if (data.asn) parts.push(`AS${plain(data.asn, 12)}${data.as_org ? ` ${plain(data.as_org, 60)}` : ''}`);
    if (data.geohash) parts.push(`geohash ${plain(data.geohash, 16)}`);
    if (detail.ip) parts.push(plain(detail.ip, 50));
  } else if (type === 'nip11') {
    if (data.name) parts.push(plain(data.name, 80));
    if (detail.final_url) parts.push(`via ${plain(detail.final_url, 120)}`);
  } else if (type === 'read') {
    if (detail.answer) parts.push(`answer: ${plain(detail.answer, 20)}`);
  } else if (type === 'write') {
    if (detail.accepted !== undefined) parts.push(detail.accepted ? 'accepted' : 'refused');
    if (detail.prefix) parts.push(`prefix ${plain(detail.prefix, 30)}`);
  } else if (type === 'requirements') {
    const needs = ['auth', 'payment', 'writes', 'pow'].filter((key) => data[key] === true);
    parts.push(needs.length ? `requires ${needs.join(', ')}` : 'no requirements');
  }
  return parts.join(' · ');
}

function checksTable(latest) {
  const types = [...CHECK_ORDER.filter((type) => latest[type]), ...Object.keys(latest).filter((type) => !CHECK_ORDER.includes(type))];
  const rows = types.map((type) => {
    const check = latest[type];
    const summary = checkSummary(type, check);
    const days = type === 'ssl' ? num(check.detail?.days_to_expiry) : null;
    return h(
      'tr',
      { dataset: { check: type } },
      h('td', {}, h('strong', {}, type)),
      h(
        'td',
        {},
        check.ok ? h('span', { class: 'badge up' }, 'ok') : h('span', { class: 'badge down' }, 'failed'),
        days !== null && days < 14 ? [' ', h('span', { class: 'badge warn' }, 'expires soon')] : null,
      ),
      h('td', { class: 'num' }, fmtMs(check.rtt_ms)),
      h(
        'td',
        { class: 'reason' },
        summary || null,
        check.reason ? h('div', { class: check.ok ? 'sub' : 'sub lag-bad' }, plain(check.reason, 400)) : null,
        !summary && !check.reason ? '—' : null,
      ),
      h('td', {}, timeEl(fromIso(check.checked_at))),
    );
  });
  return table(
    'relay-checks',
    ['Check', 'Result', ['RTT', 'num'], 'Details / reason', 'When'],
    rows.length ? rows : emptyRow(5, 'not checked yet'),
  );
}

/** A relay's NIP-11 claims against what was seen: verified, refuted (with the evidence) or untested. */
function claimsTable(claims) {
  const tone = { verified: 'up', refuted: 'down', untested: '' };
  const rows = (Array.isArray(claims) ? claims.slice(0, 60) : []).filter(isObject).map((claim) => {
    const subject = plain(claim.subject, 60);
    const status = ['verified', 'refuted', 'untested'].includes(claim.status) ? claim.status : 'untested';
    return h(
      'tr',
      { dataset: { subject } },
      h('td', {}, h('strong', {}, /^\d+$/.test(subject) ? `NIP-${subject.padStart(2, '0')}` : subject)),
      h('td', {}, claim.claimed === false ? 'not claimed' : 'claimed'),
      h('td', {}, h('span', { class: `badge ${tone[status]}`.trim() }, status)),
      h('td', { class: 'reason' }, plain(claim.evidence, 400)),
      h('td', {}, timeEl(fromIso(claim.observed_at))),
    );
  });
  return table(
    'relay-claims',
    ['Claim', 'In NIP-11', 'Seen', 'Evidence', 'When'],
    rows.length ? rows : emptyRow(5, 'nothing claimed that can be tested, or not probed yet'),
  );
}

function drawRelayRtt(slot, checks) {
  const rows = (checks ?? [])
    .map((check) => ({ x: fromIso(check.checked_at), ok: check.ok === true, rtt: num(check.rtt_ms), reason: check.reason }))
    .filter((row) => row.x !== null)
    .sort((a, b) => a.x - b.x);
  if (rows.length === 0) return markEmpty(slot, 'no data yet (no open checks)');
  const ok = rows.filter((row) => row.ok && row.rtt !== null).map((row) => ({ x: row.x, y: row.rtt }));
  const failed = rows.filter((row) => !row.ok).map((row) => ({ x: row.x, y: 0, reason: plain(row.reason, 120) }));
  const up = cssVar('--accent') || PALETTE[0];
  const down = cssVar('--down') || PALETTE[3];
  const span = Math.max(rows[rows.length - 1].x - rows[0].x, 3_600_000);
  draw(slot, {
    type: 'line',
    data: {
      datasets: [
        {
          label: 'open RTT (ms)',
          data: ok,
          borderColor: up,
          backgroundColor: `${up}22`,
          fill: true,
          pointRadius: ok.length > 120 ? 0 : 3,
          cubicInterpolationMode: 'monotone',
        },
        {
          label: 'failed',
          data: failed,
          showLine: false,
          pointStyle: 'crossRot',
          pointRadius: 7,
          pointBorderWidth: 2,
          borderColor: down,
          backgroundColor: down,
        },
      ],
    },
    options: {
      interaction: { mode: 'nearest', intersect: false },
      scales: {
        x: timeAxis(rows[0].x - span * 0.02, rows[rows.length - 1].x + span * 0.02),
        y: { beginAtZero: true, title: { display: true, text: 'ms' } },
      },
      plugins: {
        tooltip: {
          callbacks: {
            ...timeTitle,
            label: (item) => (item.datasetIndex === 1 ? `failed: ${item.raw.reason}` : `open ${fmtMs(item.parsed.y)}`),
          },
        },
      },
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Event search
// ---------------------------------------------------------------------------------------------

const SEARCH_FIELDS = [
  ['ids', 'Event ids', 'hex, comma-separated'],
  ['authors', 'Authors', 'hex pubkeys, comma-separated'],
  ['kinds', 'Kinds', 'e.g. 1,7'],
  ['#t', 'Hashtag (#t)', 'e.g. nostr'],
  ['relay', 'Seen on relay', 'wss://…'],
];

async function eventsPage(ctx, params) {
  const inputs = new Map(
    SEARCH_FIELDS.map(([key, , placeholder]) => [
      key,
      h('input', { name: key, placeholder, value: params.get(key) ?? '', autocomplete: 'off', spellcheck: 'false' }),
    ]),
  );
  const form = h(
    'form',
    {
      class: 'card search-form',
      id: 'event-search',
      onsubmit: (event) => {
        event.preventDefault();
        const query = new URLSearchParams();
        for (const [key, input] of inputs) if (input.value.trim()) query.set(key, input.value.trim());
        const target = `#/events${query.size ? `?${query}` : ''}`;
        if (location.hash === target) route();
        else location.hash = target;
      },
    },
    SEARCH_FIELDS.map(([key, label]) => h('label', { class: 'field' }, label, inputs.get(key))),
    h('button', { type: 'submit', class: 'primary' }, 'Search'),
  );
  const results = h('div', { class: 'events', id: 'event-results' });
  const more = h('button', { type: 'button', hidden: true }, 'More events');
  main.replaceChildren(
    h('h2', {}, 'Event search'),
    h('p', { class: 'note' }, 'All fields combine (AND); comma-separated values are alternatives (OR). Newest first.'),
    form,
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

// ---------------------------------------------------------------------------------------------
// Router
// ---------------------------------------------------------------------------------------------

let generation = 0;
let controller = null;

function nextFrame() {
  return new Promise((resolve) => requestAnimationFrame(() => resolve()));
}

async function route() {
  const mine = ++generation;
  controller?.abort();
  controller = new AbortController();
  const ctx = { signal: controller.signal, stale: () => mine !== generation };
  delete document.body.dataset.ready;
  errorBox.replaceChildren();
  errorBox.hidden = true;
  destroyCharts();

  const hash = location.hash.replace(/^#/, '') || '/';
  const at = hash.indexOf('?');
  const path = at < 0 ? hash : hash.slice(0, at);
  const params = new URLSearchParams(at < 0 ? '' : hash.slice(at + 1));
  const page = path === '/' || path === '' ? 'overview' : path === '/relay' ? 'relay' : path === '/events' ? 'events' : 'notfound';
  for (const link of document.querySelectorAll('[data-nav]')) link.classList.toggle('active', link.dataset.nav === page);
  document.title = page === 'relay' && params.get('url') ? `${params.get('url')} · bigbrotr` : 'bigbrotr · Nostr network archive';
  window.scrollTo(0, 0);

  let ready = page;
  try {
    if (page === 'overview') ready = await overviewPage(ctx);
    else if (page === 'relay') ready = await relayPage(ctx, params);
    else if (page === 'events') ready = await eventsPage(ctx, params);
    else main.replaceChildren(h('h2', {}, 'Not found'), h('p', {}, 'No such page. ', h('a', { href: '#/' }, 'Back to the overview.')));
  } catch (error) {
    if (!ctx.stale()) reportError(error, 'rendering the page');
  }
  if (ctx.stale()) return;
  await nextFrame();
  if (!ctx.stale()) document.body.dataset.ready = ready;
}

window.addEventListener('hashchange', () => route());
route();
