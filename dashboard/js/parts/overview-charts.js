/** The overview's charts: relays up and down, open latency, software and countries, events per day and per kind. */
import { PALETTE, barChart, countAxis, cssVar, draw, markEmpty, timeAxis, timeTitle } from '../charts.js';
import { fromIso, kindLabel, num, plain } from '../format.js';

export function drawUptime(slot, hours, windowHours) {
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

export function drawLatency(slot, buckets) {
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

export function drawBreakdown(slot, groups, horizontal) {
  const rows = (groups ?? []).filter((group) => num(group.relays) > 0);
  if (rows.length === 0) return markEmpty(slot);
  barChart(
    slot,
    rows.map((group) => plain(group.value, 60)),
    rows.map((group) => num(group.relays)),
    { label: 'relays', horizontal, colors: rows.map((_, index) => PALETTE[index % PALETTE.length]) },
  );
}

export function drawPerDay(slot, days) {
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

export function drawKinds(slot, kinds) {
  const rows = kinds ?? [];
  if (rows.length === 0) return markEmpty(slot);
  barChart(
    slot,
    rows.map((row) => kindLabel(row.kind)),
    rows.map((row) => num(row.events) ?? 0),
    { label: 'events', colors: PALETTE[4] },
  );
}
