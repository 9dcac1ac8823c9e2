/**
 * API values and how the dashboard writes them: numbers, durations, times (in UTC, so every viewer
 * reads the same thing), software names, kinds, and the tone of a sync lag.
 */

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

/**
 * How far behind a relay's archive may be for each tone: the first row whose limit the lag is under
 * wins; a lag over every limit, or no completed pass at all, is `lag-bad`.
 */
const LAG_TONES = [
  { under: 3600, tone: 'lag-ok' },
  { under: 86_400, tone: 'lag-warn' },
];

export const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);
export const num = (value) =>
  value === null || value === undefined || value === '' || !Number.isFinite(Number(value)) ? null : Number(value);

/** Any API value as short display text (objects as JSON). */
export function plain(value, max = 600) {
  if (value === undefined || value === null || value === '') return '—';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

const integer = new Intl.NumberFormat('en-US');
export const fmtInt = (value) => (num(value) === null ? '—' : integer.format(num(value)));
export const fmtMs = (value) => (num(value) === null ? '—' : `${integer.format(Math.round(num(value)))} ms`);
export const fmtPct = (value) => (num(value) === null ? '—' : `${(num(value) * 100).toFixed(num(value) === 1 ? 0 : 1)} %`);
export const fromIso = (value) => (typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? Date.parse(value) : null);
export const fromUnix = (value) => (num(value) === null ? null : num(value) * 1000);
const isoMinutes = (ms) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
export const fmtDate = (ms) => (ms === null ? '—' : `${isoMinutes(ms)} UTC`);
export const shortTime = (ms) => new Date(ms).toISOString().slice(5, 16).replace('T', ' ');

export function fmtDuration(seconds) {
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

export function fmtAgo(ms) {
  if (ms === null) return '—';
  const seconds = (Date.now() - ms) / 1000;
  if (Math.abs(seconds) < 5) return 'just now';
  return seconds >= 0 ? `${fmtDuration(seconds)} ago` : `in ${fmtDuration(-seconds)}`;
}

/** The class that colours a sync lag in seconds (`null`: no pass completed yet). */
export function lagTone(seconds) {
  if (seconds === null) return 'lag-bad';
  return LAG_TONES.find((row) => seconds < row.under)?.tone ?? 'lag-bad';
}

export function shortSoftware(value) {
  if (typeof value !== 'string' || !value) return null;
  return value
    .replace(/^git\+/i, '')
    .replace(/^(https?:\/\/)?(www\.)?(github\.com\/|gitlab\.com\/|git\.)?/i, '')
    .replace(/\.git$/i, '');
}

export const truncate = (text, max) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
export const kindLabel = (kind) => (KIND_NAMES[kind] ? `${kind} · ${KIND_NAMES[kind]}` : String(kind));
