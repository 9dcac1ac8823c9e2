/**
 * The events the machine signs, exactly as NIP-90 and NIP-89 lay them out: a job result (kind =
 * request + 1000) with `request`, `e`, `i` and `p` tags; a kind 7000 feedback with a `status`; and a
 * kind 31990 handler announcement listing the job kinds. No `amount` tag: answers are free.
 */
import type { NostrEvent } from '../../nostr/event.js';
import type { EventTemplate } from '../../nostr/sign.js';
import { FEEDBACK_KIND, JOB_KINDS, resultKindOf, type JobKind } from './job-kinds.js';

/** The `e` and `p` tags that point a reply at its request and customer (NIP-90). */
function replyTags(request: NostrEvent, relayHint: string): string[][] {
  return [
    ['e', request.id, relayHint],
    ['p', request.pubkey],
  ];
}

export function resultTemplate(
  request: NostrEvent & { kind: JobKind },
  answer: { content: string; tags: string[][] },
  relayHint: string,
): EventTemplate {
  return {
    kind: resultKindOf(request.kind),
    content: answer.content,
    tags: [
      ['request', JSON.stringify(request)],
      ...replyTags(request, relayHint),
      ...request.tags.filter((tag) => tag[0] === 'i'),
      ...answer.tags,
    ],
  };
}

export type FeedbackStatus = 'error' | 'processing' | 'success' | 'partial' | 'payment-required';

export function feedbackTemplate(request: NostrEvent, status: FeedbackStatus, info: string, relayHint: string): EventTemplate {
  return { kind: FEEDBACK_KIND, content: '', tags: [['status', status, info], ...replyTags(request, relayHint)] };
}

/** NIP-89: the handler announcement, one `k` tag per job kind answered. */
export function announcementTemplate(options: { name: string; about: string; identifier: string }): EventTemplate {
  return {
    kind: 31990,
    content: JSON.stringify({ name: options.name, about: options.about }),
    tags: [['d', options.identifier], ...JOB_KINDS.map((kind) => ['k', String(kind)])],
  };
}

/** Bytes of a result event without its content (id, pubkey, sig, tags, framing), to size the content. */
export function resultOverheadBytes(template: EventTemplate): number {
  return (
    Buffer.byteLength(
      JSON.stringify({
        id: '0'.repeat(64),
        pubkey: '0'.repeat(64),
        created_at: 0,
        kind: template.kind,
        tags: template.tags,
        content: '',
        sig: '0'.repeat(128),
      }),
    ) + 64
  );
}
