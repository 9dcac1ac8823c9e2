/** A relay's latest check of each type, and its NIP-11 claims against what was seen. */
import { h } from '../dom.js';
import { fmtDate, fmtDuration, fmtMs, fromIso, isObject, num, plain } from '../format.js';
import { emptyRow, table, timeEl } from '../widgets.js';

const CHECK_ORDER = ['open', 'read', 'write', 'nip11', 'dns', 'ssl', 'geo', 'requirements', 'claims'];

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

function checkRow(type, check) {
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
}

export function checksTable(latest) {
  const types = [...CHECK_ORDER.filter((type) => latest[type]), ...Object.keys(latest).filter((type) => !CHECK_ORDER.includes(type))];
  const rows = types.map((type) => checkRow(type, latest[type]));
  return table(
    'relay-checks',
    ['Check', 'Result', ['RTT', 'num'], 'Details / reason', 'When'],
    rows.length ? rows : emptyRow(5, 'not checked yet'),
  );
}

/** A relay's NIP-11 claims against what was seen: verified, refuted (with the evidence) or untested. */
export function claimsTable(claims) {
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
