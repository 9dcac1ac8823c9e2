/**
 * The `nip11` check: GET the relay URL over http(s) with `Accept: application/nostr+json`, following
 * at most `maxRedirects` redirects (each target screened before it is contacted), reading at most
 * `maxBytes` of body, all within `timeoutMs`, and parsing with the tolerant NIP-11 parser.
 */
import { request } from 'undici';
import { parseNip11, type Nip11Document } from '../../../nostr/nip11.js';
import type { MonitorHttp } from '../http-client.js';
import { errorMessage } from '../../../error-message.js';

export type Nip11Outcome =
  | { ok: true; rttMs: number; raw: Record<string, unknown>; document: Nip11Document; finalUrl: string; dropped: string[] }
  | { ok: false; rttMs?: number; reason: string };

export interface Nip11FetchOptions {
  http: MonitorHttp;
  timeoutMs: number;
  maxRedirects: number;
  maxBytes: number;
  userAgent: string;
  /** Refuses a redirect target (returns why) or accepts it (undefined). */
  screenRedirect(url: URL): Promise<string | undefined>;
}

/** The NIP-11 address of a relay: ws → http, wss → https, same host, port, path and query. */
export function nip11Url(relayUrl: string): URL {
  const url = new URL(relayUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  url.hash = '';
  return url;
}

/** Drops a response body we do not read (without an unhandled 'error' from undici's abort). */
function discard(body: { on(event: 'error', listener: () => void): unknown; destroy(): void }): void {
  body.on('error', () => undefined);
  body.destroy();
}

async function readCapped(
  body: AsyncIterable<Buffer> & { on(event: 'error', listener: () => void): unknown; destroy(): void },
  maxBytes: number,
): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > maxBytes) {
      discard(body);
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function fetchNip11(relayUrl: string, options: Nip11FetchOptions): Promise<Nip11Outcome> {
  const started = performance.now();
  // A timer of our own (not AbortSignal.timeout) so that nothing is left pending after the check.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  const signal = controller.signal;
  let url = nip11Url(relayUrl);
  try {
    for (let redirects = 0; ; redirects += 1) {
      const response = await request(url, {
        method: 'GET',
        headers: { accept: 'application/nostr+json', 'user-agent': options.userAgent },
        dispatcher: options.http.dispatcherFor(url.hostname),
        signal,
      });
      const location = response.headers.location;
      if (response.statusCode >= 300 && response.statusCode < 400 && typeof location === 'string') {
        discard(response.body);
        if (redirects >= options.maxRedirects)
          return { ok: false, rttMs: performance.now() - started, reason: `more than ${options.maxRedirects} redirects` };
        const next = new URL(location, url);
        if (next.protocol !== 'http:' && next.protocol !== 'https:') return { ok: false, reason: `redirect to a ${next.protocol} URL` };
        const refusal = await options.screenRedirect(next);
        if (refusal) return { ok: false, reason: `redirect to ${next.host} refused: ${refusal}` };
        url = next;
        continue;
      }
      if (response.statusCode !== 200) {
        discard(response.body);
        return { ok: false, rttMs: performance.now() - started, reason: `HTTP ${response.statusCode}` };
      }
      const text = await readCapped(response.body as never, options.maxBytes);
      const rttMs = performance.now() - started;
      if (text === undefined) return { ok: false, rttMs, reason: `document larger than ${options.maxBytes} bytes` };
      const parsed = parseNip11(text, { maxBytes: options.maxBytes });
      if (!parsed.ok) return { ok: false, rttMs, reason: parsed.message };
      return {
        ok: true,
        rttMs,
        raw: parsed.raw,
        document: parsed.document,
        finalUrl: url.href,
        dropped: parsed.dropped.map((entry) => `${entry.field}: ${entry.reason}`),
      };
    }
  } catch (error) {
    if (signal.aborted) return { ok: false, reason: `no complete answer within ${options.timeoutMs} ms` };
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return {
      ok: false,
      reason: `cannot fetch: ${cause?.code ?? (error as NodeJS.ErrnoException).code ?? ''} ${errorMessage(error)}`
        .replace(/\s+/g, ' ')
        .trim(),
    };
  } finally {
    clearTimeout(timer);
  }
}
