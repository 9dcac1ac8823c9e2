/** `#/`: the archive's KPIs, charts, sync progress and relays. */
import { markEmpty, chartCard } from '../charts.js';
import { h, main } from '../dom.js';
import { fmtAgo, fmtDate, fmtInt, fromIso, fromUnix, num, plain } from '../format.js';
import { load } from '../load.js';
import { drawBreakdown, drawKinds, drawLatency, drawPerDay, drawUptime } from '../parts/overview-charts.js';
import { relayList } from '../parts/relay-list.js';
import { syncTable } from '../parts/sync-table.js';
import { kpi, section } from '../widgets.js';

const BASES = [
  ['created', 'created', 'by the created_at the author signed'],
  ['archived', 'archived', 'by when bigbrotr archived them'],
];

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

/** The page's empty frame: every card and table in place, each showing "loading…". */
function layout(ctx) {
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
  return { kpis, uptime, latency, countries, software, basis, perDay, kinds, breakdown, syncWrap, relays };
}

/** Events per day by created_at or by archive time: the switch above the chart, and its loader. */
function perDayChart(ctx, perDay, basis) {
  let basisNow = 'created';
  const loadPerDay = () =>
    load(
      ctx,
      `/v1/stats/events-per-day?days=30&basis=${basisNow}`,
      (data) => drawPerDay(perDay, data.days),
      () => markEmpty(perDay, 'could not load'),
    );
  for (const [value, text, title] of BASES) {
    basis.append(
      h(
        'button',
        {
          type: 'button',
          'aria-pressed': String(value === basisNow),
          title,
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
  return loadPerDay;
}

function renderRelayStats(slots, data) {
  drawBreakdown(slots.software, data.software, true);
  drawBreakdown(slots.countries, data.countries, false);
  const part = (title, groups) =>
    `${title}: ${(groups ?? []).map((group) => `${plain(group.value, 40)} ${fmtInt(group.relays)}`).join(' · ') || '—'}`;
  slots.breakdown.textContent = `${part('Networks', data.networks)}    ${part('States', data.states)}`;
}

export async function overviewPage(ctx) {
  const slots = layout(ctx);
  const { kpis, uptime, latency, software, countries, kinds, syncWrap } = slots;
  const loadPerDay = perDayChart(ctx, slots.perDay, slots.basis);
  const failed = (slot) => () => markEmpty(slot, 'could not load');
  await Promise.allSettled([
    load(
      ctx,
      '/v1/stats',
      (stats) => renderKpis(kpis, stats),
      () => kpis.append(h('p', { class: 'muted' }, 'summary unavailable')),
    ),
    load(ctx, '/v1/stats/uptime?hours=168', (data) => drawUptime(uptime, data.hours, 168), failed(uptime)),
    load(ctx, '/v1/stats/latency', (data) => drawLatency(latency, data.buckets), failed(latency)),
    load(
      ctx,
      '/v1/stats/relays?limit=10',
      (data) => renderRelayStats(slots, data),
      () => {
        markEmpty(software, 'could not load');
        markEmpty(countries, 'could not load');
      },
    ),
    loadPerDay(),
    load(ctx, '/v1/stats/kinds?limit=20', (data) => drawKinds(kinds, data.kinds), failed(kinds)),
    load(
      ctx,
      '/v1/stats/sync?limit=100',
      (data) => syncWrap.replaceChildren(syncTable(data.relays)),
      () => syncWrap.replaceChildren(h('p', { class: 'muted' }, 'could not load')),
    ),
    slots.relays.load(true),
  ]);
  return 'overview';
}
