/**
 * Relay blacklist and whitelist patterns. `*` matches any run of characters; a pattern containing
 * `://` matches the whole normalised URL, one without matches the host. Each pattern becomes an
 * anchored regular expression in the subset both JavaScript and PostgreSQL (`~`) understand, so the
 * same rule filters relays in memory and in SQL.
 */
const SPECIAL = /[\\^$.|?+()[\]{}]/g;

function globToRegex(glob: string): string {
  return glob.replace(SPECIAL, (char) => `\\${char}`).replace(/\*/g, '.*');
}

/** The anchored regular expression (source) for one pattern, matched against a normalised URL. */
export function relayPatternRegex(pattern: string): string {
  const trimmed = pattern.trim().toLowerCase();
  if (trimmed.includes('://')) return `^${globToRegex(trimmed)}$`;
  return `^wss?://${globToRegex(trimmed)}(:[0-9]+)?(/.*)?$`;
}

export interface RelayUrlFilter {
  /** Regex sources for SQL: a relay is allowed when it matches no blacklist entry and (when given) a whitelist entry. */
  blacklist: string[];
  whitelist: string[];
  allows(url: string): boolean;
  /** Why the URL is not allowed, or undefined when it is. */
  refusal(url: string): 'blacklisted' | 'not-whitelisted' | undefined;
}

export function relayUrlFilter(options: { blacklist: readonly string[]; whitelist: readonly string[] }): RelayUrlFilter {
  const blacklist = options.blacklist.map(relayPatternRegex);
  const whitelist = options.whitelist.map(relayPatternRegex);
  const black = blacklist.map((source) => new RegExp(source));
  const white = whitelist.map((source) => new RegExp(source));
  const refusal = (url: string): 'blacklisted' | 'not-whitelisted' | undefined => {
    const lower = url.toLowerCase();
    if (black.some((regex) => regex.test(lower))) return 'blacklisted';
    if (white.length > 0 && !white.some((regex) => regex.test(lower))) return 'not-whitelisted';
    return undefined;
  };
  return { blacklist, whitelist, refusal, allows: (url) => refusal(url) === undefined };
}
