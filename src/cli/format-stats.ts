import type { ArchiveStats } from '../db/stats.js';

function formatCounts(counts: Record<string, number>): string {
  const entries = Object.entries(counts).filter(([, count]) => count > 0);
  return entries.length ? entries.map(([name, count]) => `${name} ${count.toLocaleString('en-US')}`).join(', ') : 'none';
}

/** Human-readable lines for `bigbrotr stats`. */
export function formatStats(database: string, stats: ArchiveStats): string[] {
  const number = (value: number) => value.toLocaleString('en-US');
  return [
    `database:          ${database}`,
    `relays:            ${number(stats.relays.total)}`,
    `  by network:      ${formatCounts(stats.relays.byNetwork)}`,
    `  by state:        ${formatCounts(stats.relays.byState)}`,
    `events:            ${number(stats.events)}`,
    `event-relay pairs: ${number(stats.eventRelayPairs)}`,
    `metadata records:  ${number(stats.metadata)}`,
    `relay checks:      ${number(stats.relayChecks)}`,
    `last sync passes:  ${number(stats.sync.relaysComplete)} complete, ${number(stats.sync.relaysIncomplete)} incomplete`,
    `owed windows:      ${number(stats.sync.owedWindows)}`,
    `withheld ids:      ${number(stats.sync.withheldIds)}`,
    `learned limits:    ${number(stats.sync.learnedLimits.filter((entry) => entry.maxKinds !== null || entry.maxAuthors !== null || entry.maxIds !== null || entry.maxFilters !== null || entry.maxLimit !== null || entry.requiresKinds).length)} relays (details: stats --json)`,
    `claims that hold:  ${(['77', '45', '42', '50', '40', '9', '70'] as const).map((nip) => `NIP-${nip} ${number(stats.claims[nip].verified)} of ${number(stats.claims[nip].claimed)} claiming (${number(stats.claims[nip].refuted)} refuted)`).join('; ')}`,
  ];
}
