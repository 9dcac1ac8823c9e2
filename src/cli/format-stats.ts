import type { ArchiveStats } from '../db/stats.js';

function formatCounts(counts: Record<string, number>): string {
  const entries = Object.entries(counts).filter(([, count]) => count > 0);
  return entries.length ? entries.map(([name, count]) => `${name} ${count.toLocaleString('en-US')}`).join(', ') : 'none';
}

const number = (value: number) => value.toLocaleString('en-US');

/** The NIPs whose claims are checked, in the order the stats line lists them. */
const CHECKED_CLAIMS = ['77', '45', '42', '50', '40', '9', '70'] as const;

/** Whether the relay showed any limit of its own (a row with every limit unset says nothing). */
function hasLearnedLimit(entry: ArchiveStats['sync']['learnedLimits'][number]): boolean {
  return (
    entry.maxKinds !== null ||
    entry.maxAuthors !== null ||
    entry.maxIds !== null ||
    entry.maxFilters !== null ||
    entry.maxLimit !== null ||
    entry.requiresKinds
  );
}

/** Per checked NIP: relays where the claim held, relays claiming it, relays where it was refuted. */
function claimsThatHold(stats: ArchiveStats): string {
  return CHECKED_CLAIMS.map((nip) => {
    const claims = stats.claims[nip];
    return `NIP-${nip} ${number(claims.verified)} of ${number(claims.claimed)} claiming (${number(claims.refuted)} refuted)`;
  }).join('; ');
}

/** Human-readable lines for `bigbrotr stats`. */
export function formatStats(database: string, stats: ArchiveStats): string[] {
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
    `learned limits:    ${number(stats.sync.learnedLimits.filter(hasLearnedLimit).length)} relays (details: stats --json)`,
    `claims that hold:  ${claimsThatHold(stats)}`,
  ];
}
