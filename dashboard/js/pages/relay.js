/** `#/relay?url=<encoded>`: one relay's status, KPIs, RTT chart, NIP-11 document, sync, checks and claims. */
import { apiPage } from '../api.js';
import { showError } from '../banner.js';
import { chartCard, markEmpty } from '../charts.js';
import { h, main } from '../dom.js';
import { fmtAgo, fmtInt, fromIso, isObject, plain } from '../format.js';
import { load } from '../load.js';
import { checksTable, claimsTable } from '../parts/relay-checks.js';
import { renderNip11, renderRelayKpis, renderSync } from '../parts/relay-info.js';
import { drawRelayRtt } from '../parts/relay-rtt.js';
import { section, statusBadge } from '../widgets.js';

const loading = () => h('p', { class: 'muted' }, 'loading…');

/** The page's empty frame: every card and table in place, each showing "loading…". */
function layout(url, back) {
  const badges = h('div', { class: 'badges' });
  const kpis = h('section', { id: 'relay-kpis', class: 'kpis section', 'aria-label': 'Uptime and latency' });
  const nip11 = h('div', { id: 'relay-nip11' }, loading());
  const sync = h('div', { id: 'relay-sync' }, loading());
  const checks = h('div', { class: 'card section' }, loading());
  const claims = h('div', { class: 'card section' }, loading());
  const rtt = chartCard('chart-relay-rtt', 'Open round trip and failures', {
    wide: true,
    note: 'Each WebSocket open check (latest 500): round trip of successes; failures marked on the axis.',
  });
  const card = (title, body) => h('section', { class: 'card' }, h('header', { class: 'card-head' }, h('h3', {}, title)), body);

  main.replaceChildren(
    h('section', { class: 'relay-head' }, back, h('h2', { id: 'relay-url' }, url), badges),
    kpis,
    h('div', { class: 'grid' }, rtt.card, card('NIP-11 document', nip11), card('Sync and health', sync)),
    section('Latest checks', null, checks),
    section(
      'Claims against behaviour',
      h('span', { class: 'note' }, 'what its NIP-11 document claims, tested by the monitor and seen by the synchronizer'),
      claims,
    ),
  );
  return { badges, kpis, nip11, sync, checks, claims, rtt };
}

function renderDetail(slots, url, detail) {
  const relay = detail.relay ?? {};
  const latest = isObject(detail.checks) ? detail.checks : {};
  const open = latest.open;
  slots.badges.replaceChildren(
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
  renderRelayKpis(slots.kpis, detail.uptime, open);
  renderNip11(slots.nip11, latest.nip11);
  renderSync(slots.sync, detail.sync, detail.health);
  slots.checks.replaceChildren(checksTable(latest));
  slots.claims.replaceChildren(claimsTable(detail.claims));
}

export async function relayPage(ctx, params) {
  const url = params.get('url');
  const back = h('a', { href: '#/', class: 'back' }, '← Overview');
  if (!url) {
    main.replaceChildren(back, h('p', {}, 'No relay given: open a relay from the overview.'));
    showError('no relay URL in the address (#/relay?url=…)');
    return 'relay';
  }
  const slots = layout(url, back);
  await Promise.allSettled([
    load(
      ctx,
      `/v1/relays/detail?url=${encodeURIComponent(url)}`,
      (detail) => renderDetail(slots, url, detail),
      () => {
        for (const element of [slots.nip11, slots.sync, slots.checks, slots.claims])
          element.replaceChildren(h('p', { class: 'muted' }, 'could not load'));
      },
    ),
    load(
      ctx,
      (signal) => apiPage('/v1/relays/checks', new URLSearchParams({ url, type: 'open', limit: '500' }), signal),
      (data) => drawRelayRtt(slots.rtt, data.checks),
      () => markEmpty(slots.rtt, 'could not load'),
    ),
  ]);
  return 'relay';
}
