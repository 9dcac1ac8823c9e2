/**
 * External relay lists: an HTTP(S) URL answering a JSON array of relay URLs (strings, or objects
 * with a `url` field), as public relay directories publish. Fetched with a time limit and a body size
 * cap (read as a stream, stopped at the cap); everything inside is untrusted text.
 */
export class ExternalListError extends Error {
  constructor(readonly listUrl: string, message: string) {
    super(`external list ${listUrl}: ${message}`);
    this.name = 'ExternalListError';
  }
}

export async function fetchExternalList(url: string, options: { timeoutMs: number; maxBytes: number }): Promise<string[]> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs), redirect: 'follow', headers: { accept: 'application/json' } });
  } catch (error) {
    const cause = error as Error;
    throw new ExternalListError(url, cause.name === 'TimeoutError' ? `no answer within ${options.timeoutMs} ms` : `cannot fetch: ${cause.message}`);
  }
  if (!response.ok) throw new ExternalListError(url, `HTTP ${response.status}`);
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > options.maxBytes) {
    await response.body?.cancel();
    throw new ExternalListError(url, `body of ${declared} bytes is larger than finder.external_list_max_bytes (${options.maxBytes})`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body?.getReader();
  try {
    for (;;) {
      const { done, value } = (await reader?.read()) ?? { done: true, value: undefined };
      if (done) break;
      size += value.byteLength;
      if (size > options.maxBytes) {
        await reader?.cancel();
        throw new ExternalListError(url, `body larger than finder.external_list_max_bytes (${options.maxBytes})`);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof ExternalListError) throw error;
    const cause = error as Error;
    throw new ExternalListError(url, cause.name === 'TimeoutError' ? `no complete answer within ${options.timeoutMs} ms` : `read failed: ${cause.message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ExternalListError(url, 'not JSON');
  }
  if (!Array.isArray(parsed)) throw new ExternalListError(url, 'not a JSON array');
  return parsed
    .map((entry: unknown) => (typeof entry === 'string' ? entry : typeof (entry as { url?: unknown })?.url === 'string' ? (entry as { url: string }).url : undefined))
    .filter((entry): entry is string => entry !== undefined);
}
