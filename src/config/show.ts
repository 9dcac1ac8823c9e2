/** The effective config as a plain object with every secret redacted, for `bigbrotr config show`. */
import type { LoadedConfig } from './loader.js';
import { REDACTED } from '../observability/redact.js';

function maskUrlPassword(value: string): string {
  try {
    const parsed = new URL(value);
    if (!parsed.password) return parsed.search ? REDACTED : value;
    parsed.password = 'REDACTED';
    return parsed.toString().replace('REDACTED', REDACTED);
  } catch {
    return REDACTED;
  }
}

export function redactedConfig(loaded: LoadedConfig): Record<string, unknown> {
  const copy = structuredClone(loaded.config) as unknown as Record<string, Record<string, unknown>>;
  for (const path of loaded.secretPaths) {
    const [section, key] = path.split('.') as [string, string];
    const holder = copy[section];
    if (!holder || holder[key] === undefined) continue;
    const value = holder[key];
    // A URL keeps its host and database visible (useful when debugging), never its password.
    holder[key] = typeof value === 'string' && /^[a-z]+:\/\//i.test(value) ? maskUrlPassword(value) : REDACTED;
  }
  return copy;
}
