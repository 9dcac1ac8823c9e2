/** A relay's uptime and latency KPIs, its NIP-11 document, and its sync and health. */
import { h } from '../dom.js';
import { fmtDate, fmtDuration, fmtInt, fmtMs, fmtPct, fromIso, fromUnix, isObject, lagTone, num, plain } from '../format.js';
import { kpi, timeEl } from '../widgets.js';

export function renderRelayKpis(container, uptime, open) {
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

function supportedNips(doc) {
  const nips = Array.isArray(doc.supported_nips) ? doc.supported_nips.slice(0, 300) : [];
  if (!nips.length) return '—';
  return h(
    'div',
    { class: 'chips' },
    nips.map((nip) => h('span', { class: 'chip' }, typeof nip === 'number' ? String(nip).padStart(2, '0') : plain(nip, 12))),
  );
}

function limitation(doc) {
  if (!isObject(doc.limitation) || !Object.keys(doc.limitation).length) return '—';
  return h(
    'table',
    { class: 'kv' },
    h(
      'tbody',
      {},
      Object.entries(doc.limitation)
        .slice(0, 40)
        .map(([key, value]) => h('tr', {}, h('td', {}, plain(key, 60)), h('td', {}, plain(value, 200)))),
    ),
  );
}

function nip11Props(doc) {
  const props = h('dl', { class: 'props' });
  const row = (label, value, field) => props.append(h('dt', {}, label), h('dd', { dataset: field ? { field } : undefined }, value));
  const list = (value) => (Array.isArray(value) ? value.map((item) => plain(item, 40)).join(', ') : plain(value));
  row('Name', plain(doc.name, 200), 'name');
  row('Description', plain(doc.description, 1_000), 'description');
  row('Software', plain(doc.software, 200), 'software');
  row('Version', plain(doc.version, 100), 'version');
  if (doc.pubkey) row('Public key', h('span', { class: 'mono' }, plain(doc.pubkey, 100)));
  if (doc.contact) row('Contact', plain(doc.contact, 200));
  row('Supported NIPs', supportedNips(doc), 'supported_nips');
  row('Limitation', limitation(doc), 'limitation');
  if (doc.relay_countries) row('Relay countries', list(doc.relay_countries));
  if (doc.language_tags) row('Languages', list(doc.language_tags));
  if (doc.tags) row('Tags', list(doc.tags));
  if (doc.posting_policy) row('Posting policy', plain(doc.posting_policy, 300));
  if (doc.payments_url) row('Payments', plain(doc.payments_url, 300));
  if (doc.fees) row('Fees', plain(doc.fees, 400));
  return props;
}

export function renderNip11(container, check) {
  if (!check) return container.replaceChildren(h('p', { class: 'muted' }, 'No NIP-11 document fetched yet.'));
  if (!check.ok)
    return container.replaceChildren(
      h('p', {}, h('span', { class: 'badge down' }, 'failed'), ' ', plain(check.reason, 300)),
      h('p', { class: 'note' }, 'checked ', timeEl(fromIso(check.checked_at))),
    );
  container.replaceChildren(
    nip11Props(isObject(check.data) ? check.data : {}),
    h('p', { class: 'note' }, 'fetched ', timeEl(fromIso(check.checked_at)), check.rtt_ms != null ? ` in ${fmtMs(check.rtt_ms)}` : ''),
  );
}

export function renderSync(container, sync, health) {
  const props = h('dl', { class: 'props' });
  const row = (label, ...value) => props.append(h('dt', {}, label), h('dd', {}, value));
  if (isObject(sync)) {
    row('Archived until', timeEl(fromUnix(sync.completed_until), false));
    const lag = num(sync.lag_seconds);
    row('Lag', h('span', { class: lagTone(lag), id: 'relay-lag' }, lag === null ? 'no pass completed yet' : fmtDuration(lag)));
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
