/**
 * Scrubs secrets from any text before it is written anywhere (logs, error messages, `config show`).
 * Two rules: every registered secret value is replaced, and the password part of any URL
 * (`scheme://user:password@host`) is replaced even when nobody registered it.
 */
export const REDACTED = '[REDACTED]';

const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)([^\s@/]+)(@)/gi;
/** Secrets shorter than this are not scrubbed by value: they would redact ordinary words. */
const MIN_SECRET_LENGTH = 4;

const registered = new Set<string>();

export function registerSecret(value: string | undefined): void {
  if (!value || value.length < MIN_SECRET_LENGTH) return;
  registered.add(value);
  // A URL's password is often what leaks on its own (e.g. in a driver error).
  try {
    const parsed = new URL(value);
    if (parsed.password) {
      registered.add(parsed.password);
      registered.add(decodeURIComponent(parsed.password));
    }
  } catch {
    // not a URL: the value itself is registered
  }
}

export function redactText(text: string): string {
  let result = text.replace(URL_PASSWORD, `$1${REDACTED}$3`);
  for (const secret of registered) {
    if (secret.length >= MIN_SECRET_LENGTH && result.includes(secret)) result = result.split(secret).join(REDACTED);
    const escaped = JSON.stringify(secret).slice(1, -1);
    if (escaped !== secret && result.includes(escaped)) result = result.split(escaped).join(REDACTED);
  }
  return result;
}

/** For tests. */
export function clearRegisteredSecrets(): void {
  registered.clear();
}
