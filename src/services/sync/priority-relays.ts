/**
 * Priority relays from `sync.priority_relays` and `sync.priority_file`, normalised and checked at
 * start-up: a bad URL or an unreadable file is a configuration error (exit 2) naming the entry.
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../../config/schema.js';
import { ConfigError, type ConfigProblem } from '../../config/errors.js';
import { normalizeRelayUrl } from '../../nostr/relay-url.js';
import { parseSeedList } from '../seed-list.js';
import { errorMessage } from '../../error-message.js';

export function loadPriorityRelays(config: Config): string[] {
  const urls = new Set<string>();
  const problems: ConfigProblem[] = [];
  config.sync.priority_relays.forEach((entry, index) => {
    const normalized = normalizeRelayUrl(entry, { maxLength: config.relay_url.max_length });
    if (normalized.ok) urls.add(normalized.url);
    else problems.push({ path: `sync.priority_relays[${index}]`, message: `${normalized.message}: ${JSON.stringify(entry.slice(0, 80))}` });
  });
  const file = config.sync.priority_file;
  if (file !== undefined) {
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      problems.push({
        path: 'sync.priority_file',
        message: `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? errorMessage(error)}`,
      });
    }
    if (text !== undefined) {
      const parsed = parseSeedList(text, { maxUrlLength: config.relay_url.max_length });
      for (const entry of parsed.entries) urls.add(entry.url);
      for (const problem of parsed.problems)
        problems.push({ path: 'sync.priority_file', message: `${file}:${problem.line}: ${problem.reason}` });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return [...urls];
}
