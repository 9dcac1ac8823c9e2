/** A relay's open checks over time: round trip of the successes, failures marked on the axis. */
import { PALETTE, cssVar, draw, markEmpty, timeAxis, timeTitle } from '../charts.js';
import { fmtMs, fromIso, num, plain } from '../format.js';

export function drawRelayRtt(slot, checks) {
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
