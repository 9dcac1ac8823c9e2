/**
 * Parses a seed list: one relay URL per line; blank lines and `#` comments (whole line, or after
 * whitespace at the end of a line) are ignored. Every other line is normalised; bad lines are reported
 * with their number and reason and the good ones are kept.
 */
import { normalizeRelayUrl, type RelayNetwork } from '../nostr/relay-url.js';

export interface SeedEntry {
  line: number;
  url: string;
  network: RelayNetwork;
}

export interface SeedProblem {
  line: number;
  text: string;
  reason: string;
}

export interface ParsedSeedList {
  entries: SeedEntry[];
  problems: SeedProblem[];
  /** Lines that normalised to a URL already listed above. */
  duplicates: number;
}

const MAX_SHOWN_TEXT = 80;

function stripComment(line: string): string {
  if (line.trimStart().startsWith('#')) return '';
  const inline = line.search(/\s#/);
  return (inline >= 0 ? line.slice(0, inline) : line).trim();
}

export function parseSeedList(text: string, options: { maxUrlLength: number }): ParsedSeedList {
  const entries: SeedEntry[] = [];
  const problems: SeedProblem[] = [];
  const seen = new Set<string>();
  let duplicates = 0;
  const lines = text.split(/\r?\n/);
  lines.forEach((rawLine, index) => {
    const candidate = stripComment(rawLine);
    if (candidate === '') return;
    const result = normalizeRelayUrl(candidate, { maxLength: options.maxUrlLength });
    if (!result.ok) {
      const shown = candidate.length > MAX_SHOWN_TEXT ? `${candidate.slice(0, MAX_SHOWN_TEXT)}…` : candidate;
      problems.push({ line: index + 1, text: shown, reason: result.message ?? result.reason });
      return;
    }
    if (seen.has(result.url)) {
      duplicates += 1;
      return;
    }
    seen.add(result.url);
    entries.push({ line: index + 1, url: result.url, network: result.network });
  });
  return { entries, problems, duplicates };
}
