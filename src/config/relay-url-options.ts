/** Relay URLs given in the configuration, normalised; a bad one is a ConfigError naming its option and index. */
import type { Config } from './schema.js';
import { ConfigError } from './errors.js';
import { normalizeRelayUrl } from '../nostr/relay-url.js';

export function configuredRelayUrls(inputs: string[], path: string, config: Config): string[] {
  return inputs.map((input, index) => {
    const normalized = normalizeRelayUrl(input, { maxLength: config.relay_url.max_length });
    if (!normalized.ok) throw new ConfigError([{ path: `${path}[${index}]`, message: normalized.message }]);
    return normalized.url;
  });
}
