/**
 * Chart.js 4 (UMD build, global `Chart`, loaded by a classic script before the modules): its
 * defaults in the page's colours, chart cards with a "no data yet" placeholder, and the axes and bar
 * chart the pages share. Without Chart.js every chart says so instead of throwing.
 */
import { h } from './dom.js';
import { fmtDate, shortTime, truncate } from './format.js';

const ChartJs = globalThis.Chart;
export const PALETTE = ['#3b5bdb', '#1f9d55', '#f08c00', '#d64545', '#7048e8', '#1098ad', '#d6336c', '#74b816', '#5c7cfa', '#868e96'];

export function cssVar(name) {
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
export function chartCard(id, title, { wide = false, note, tools } = {}) {
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

export function markEmpty(slot, note = 'no data yet') {
  ChartJs?.getChart(slot.canvas)?.destroy();
  slot.box.classList.add('empty');
  slot.box.querySelector('.empty-note').textContent = note;
}

export function draw(slot, config) {
  if (!ChartJs) {
    markEmpty(slot, 'charts unavailable (Chart.js did not load)');
    return;
  }
  ChartJs.getChart(slot.canvas)?.destroy();
  slot.box.classList.remove('empty');
  new ChartJs(slot.canvas, config);
}

export function destroyCharts() {
  if (!ChartJs) return;
  for (const chart of Object.values(ChartJs.instances)) chart.destroy();
}

export const timeAxis = (min, max) => ({
  type: 'linear',
  min,
  max,
  ticks: { maxTicksLimit: 8, maxRotation: 0, callback: (value) => shortTime(value) },
  grid: { display: false },
});
export const countAxis = (title) => ({
  beginAtZero: true,
  ticks: { precision: 0 },
  title: title ? { display: true, text: title } : undefined,
});
export const timeTitle = { title: (items) => (items.length ? fmtDate(items[0].parsed.x) : '') };

export function barChart(slot, labels, values, { label, horizontal = false, colors } = {}) {
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
