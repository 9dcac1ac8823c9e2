/**
 * External relay lists: an HTTP(S) URL answering a JSON array of relay URLs (strings, or objects
 * with a `url` field), as public relay directories publish. Fetched with a time limit and a body size
 * cap (read as a stream, stopped at the cap); everything inside is untrusted text. The list's URL is
 * the operator's; a redirect elsewhere is screened by the outbound policy
 * (src/relay/address-policy.ts) and followed only to the addresses screened.
 */
import type { Resolver } from 'node:dns/promises';
import { Agent, fetch as undiciFetch, type Response } from 'undici';
import { pinnedLookup, screenHost } from '../../relay/address-policy.js';

const MAX_REDIRECTS = 3;

/** An undici dispatcher connecting to exactly these addresses whatever the name resolves to. */
function pinnedAgent(addresses: string[]): Agent {
  return new Agent({ connect: { lookup: pinnedLookup(addresses) } as never });
}
export class ExternalListError extends Error {
  constructor(
    readonly listUrl: string,
    message: string,
  ) {
    super(`external list ${listUrl}: ${message}`);
    this.name = 'ExternalListError';
  }
}

export async function fetchExternalList(
  url: string,
  options: { timeoutMs: number; maxBytes: number; allowPrivate: boolean; resolver: Pick<Resolver, 'resolve4' | 'resolve6'> },
): Promise<string[]> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  let target = new URL(url);
  let response: Response | undefined;
  const agents: Agent[] = [];
  try {
    for (let hop = 0; ; hop += 1) {
      let dispatcher: Agent | undefined;
      if (hop > 0) {
        const screened = await screenHost(target.hostname, { trusted: options.allowPrivate, resolver: options.resolver });
        if (!screened.ok) throw new ExternalListError(url, `redirect to ${target.host} refused: ${screened.refusal ?? screened.detail}`);
        if (screened.addresses.length > 0) agents.push((dispatcher = pinnedAgent(screened.addresses)));
      }
      try {
        response = await undiciFetch(target, {
          signal,
          redirect: 'manual',
          headers: { accept: 'application/json' },
          ...(dispatcher ? { dispatcher } : {}),
        });
      } catch (error) {
        const cause = error as Error;
        throw new ExternalListError(
          url,
          cause.name === 'TimeoutError' ? `no answer within ${options.timeoutMs} ms` : `cannot fetch: ${cause.message}`,
        );
      }
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) break;
      await response.body?.cancel();
      if (hop >= MAX_REDIRECTS) throw new ExternalListError(url, `more than ${MAX_REDIRECTS} redirects`);
      target = new URL(location, target);
      if (target.protocol !== 'http:' && target.protocol !== 'https:')
        throw new ExternalListError(url, `redirect to a ${target.protocol} URL`);
    }
    return await readList(url, response, options);
  } finally {
    await Promise.all(agents.map((agent) => agent.close()));
  }
}

async function readList(url: string, response: Response, options: { timeoutMs: number; maxBytes: number }): Promise<string[]> {
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
    throw new ExternalListError(
      url,
      cause.name === 'TimeoutError' ? `no complete answer within ${options.timeoutMs} ms` : `read failed: ${cause.message}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ExternalListError(url, 'not JSON');
  }
  if (!Array.isArray(parsed)) throw new ExternalListError(url, 'not a JSON array');
  return parsed
    .map((entry: unknown) =>
      typeof entry === 'string'
        ? entry
        : typeof (entry as { url?: unknown })?.url === 'string'
          ? (entry as { url: string }).url
          : undefined,
    )
    .filter((entry): entry is string => entry !== undefined);
}
