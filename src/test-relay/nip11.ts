/** The test relay's NIP-11 answers, right and wrong. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Misbehaviour, TestRelayOptions } from './options.js';

export function nip11Document(options: Omit<TestRelayOptions, 'misbehaviour'>): Record<string, unknown> {
  return {
    name: 'bigbrotr test relay',
    description: 'A relay started by the bigbrotr test suite on 127.0.0.1.',
    software: 'bigbrotr-test-relay',
    version: '1.0.0',
    supported_nips: [1, 11, 42, ...(options.count === 'exact' ? [45] : []), ...(options.negentropy ? [77] : [])],
    limitation: {
      max_limit: options.maxLimit,
      default_limit: options.defaultLimit,
      max_subscriptions: options.maxSubscriptions,
      max_subid_length: options.maxSubIdLength,
      auth_required: options.authRequired === true,
    },
    ...options.nip11,
  };
}

/** Where a NIP-11 request is redirected under the `redirect*` modes (a loop, a private address, anywhere), or undefined. */
export function nip11Redirect(
  behaviour: Pick<Misbehaviour, 'nip11Mode' | 'nip11RedirectTo'>,
  path: string | undefined,
): string | undefined {
  if (!behaviour.nip11Mode.startsWith('redirect') || path === '/moved') return undefined;
  if (behaviour.nip11Mode === 'redirect-loop') return '/';
  if (behaviour.nip11Mode === 'redirect-private') return 'http://10.255.255.1/';
  if (behaviour.nip11Mode === 'redirect-to') return behaviour.nip11RedirectTo;
  return '/moved';
}

export function serveNip11(
  req: IncomingMessage,
  res: ServerResponse,
  document: Record<string, unknown>,
  mode: Misbehaviour['nip11Mode'],
  delayMs: number,
): void {
  const headers = { 'access-control-allow-origin': '*', 'access-control-allow-headers': '*', 'access-control-allow-methods': 'GET' };
  if (mode === 'missing') {
    res.writeHead(404, headers).end('not found');
    return;
  }
  if (mode === 'html') {
    res.writeHead(200, { ...headers, 'content-type': 'text/html' }).end('<!DOCTYPE html><html><body>502 Bad Gateway</body></html>');
    return;
  }
  if (mode === 'invalid-json') {
    res.writeHead(200, { ...headers, 'content-type': 'application/nostr+json' }).end('{"name": "broken", ');
    return;
  }
  let body = document;
  if (mode === 'wrong-types')
    body = {
      ...document,
      name: 7,
      supported_nips: ['1', 'eleven', 42],
      limitation: { max_limit: '250', auth_required: 'nope' },
      fees: 'free',
    };
  if (mode === 'huge') body = { ...document, description: 'x'.repeat(2 * 1024 * 1024) };
  const text = JSON.stringify(body);
  const send = () => {
    if (!res.destroyed) res.writeHead(200, { ...headers, 'content-type': 'application/nostr+json' }).end(text);
  };
  if (mode === 'slow') setTimeout(send, Math.max(delayMs, 2_000)).unref();
  else send();
  void req;
}
