/**
 * Answers one parsed job from the archive, inside a read-only transaction with a statement timeout,
 * and cuts the answer to the byte budget a relay will accept. Whatever is cut is said: a `cursor`
 * (archived events) or `truncated` tag, never a silently shorter list.
 */
import type { Database, Queryable } from '../../db/database.js';
import { encodeCursor, groupedCountQuery, countQuery } from '../../db/event-query.js';
import { searchEvents } from '../../db/event-search.js';
import { archivedIds, sightingsOf } from '../../db/event-provenance.js';
import { relayHistory } from '../../db/relay-queries.js';
import { readOnly } from '../../api/api-query.js';
import { JOB_KIND } from './job-kinds.js';
import type { Job } from './job-request.js';

export interface JobAnswer {
  /** The result event's content. */
  content: string;
  /** Tags added to the result (after the NIP-90 ones). */
  tags: string[][];
}

export class JobRefused extends Error {}

type GroupRow = Record<string, string | null> & { count: string; groups_total: string };

/**
 * Nests grouped counts: {"a": {"x": 3}} for groups (g0, g1); a missing value is the key "". Keys come
 * from events anyone can publish (`__proto__`, `constructor`): built in Maps and turned into objects
 * with own properties only, so no key can reach a prototype.
 */
function nestCounts(rows: GroupRow[], groupCount: number): Record<string, unknown> {
  type Level = Map<string, Level | number>;
  const root: Level = new Map();
  for (const row of rows) {
    let level = root;
    for (let index = 0; index < groupCount - 1; index += 1) {
      const key = row[`g${index}`] ?? '';
      let next = level.get(key);
      if (!(next instanceof Map)) {
        next = new Map();
        level.set(key, next);
      }
      level = next;
    }
    const key = row[`g${groupCount - 1}`] ?? '';
    const current = level.get(key);
    // A NULL and an empty value share the key "": their counts add up.
    level.set(key, (typeof current === 'number' ? current : 0) + Number(row.count));
  }
  const toObject = (level: Level): Record<string, unknown> =>
    Object.fromEntries([...level].map(([key, value]) => [key, value instanceof Map ? toObject(value) : value]));
  return toObject(root);
}

/** Bytes `content` takes inside the signed event's JSON (escaped), which is what relays measure. */
export function encodedBytes(content: string): number {
  return Buffer.byteLength(JSON.stringify(content)) - 2;
}

async function eventCount(
  tx: Queryable,
  job: Extract<Job, { kind: typeof JOB_KIND.eventCount }>,
  maxResults: number,
  maxBytes: number,
): Promise<JobAnswer> {
  if (job.groups.length === 0) {
    const query = countQuery(job.filters);
    const { rows } = await tx.query<{ count: string }>(query.text, query.values);
    return { content: String(Number(rows[0]?.count ?? 0)), tags: [] };
  }
  const query = groupedCountQuery(job.filters, job.groups, maxResults);
  let { rows } = await tx.query<GroupRow>(query.text, query.values);
  const total = Number(rows[0]?.groups_total ?? 0);
  let content = JSON.stringify(nestCounts(rows, job.groups.length));
  while (encodedBytes(content) > maxBytes && rows.length > 0) {
    rows = rows.slice(0, Math.floor(rows.length / 2));
    content = JSON.stringify(nestCounts(rows, job.groups.length));
  }
  return { content, tags: rows.length < total ? [['truncated', `${rows.length} of ${total} groups, largest first`]] : [] };
}

async function archivedEvents(
  tx: Queryable,
  job: Extract<Job, { kind: typeof JOB_KIND.archivedEvents }>,
  maxBytes: number,
): Promise<JobAnswer> {
  // One more than asked: whether more follow decides the cursor.
  const events = await searchEvents(tx, job.filters, job.maxResults + 1, job.position);
  // (job.maxResults is already the smaller of the filters' limit, max_results and dvm.max_results.)
  const kept: string[] = [];
  let bytes = 2;
  let more = events.length > job.maxResults;
  for (const event of events.slice(0, job.maxResults)) {
    const json = JSON.stringify(event);
    const size = encodedBytes(json) + 1;
    if (bytes + size > maxBytes) {
      more = true;
      break;
    }
    kept.push(json);
    bytes += size;
  }
  if (kept.length === 0 && events.length > 0)
    throw new JobRefused(
      `the first matching event alone is larger than this machine's result limit (${maxBytes} bytes); ask for it from a relay by id`,
    );
  const last = kept.length > 0 ? (JSON.parse(kept[kept.length - 1] as string) as { id: string; created_at: number }) : undefined;
  const tags = [['count', String(kept.length)]];
  if (more && last) tags.push(['cursor', encodeCursor({ createdAt: last.created_at, id: last.id })]);
  return { content: `[${kept.join(',')}]`, tags };
}

async function eventProvenance(
  tx: Queryable,
  job: Extract<Job, { kind: typeof JOB_KIND.eventProvenance }>,
  maxBytes: number,
): Promise<JobAnswer> {
  const held = await archivedIds(tx, job.ids);
  const sightings = await sightingsOf(tx, job.ids);
  const answerWith = (perEvent: number) => {
    const answer: Record<string, { archived: boolean; seen_on: number; relays: { relay: string; first_seen_at: number }[] }> = {};
    for (const id of job.ids) {
      const seen = sightings.get(id) ?? [];
      answer[id] = {
        archived: held.has(id),
        seen_on: seen.length,
        relays: seen
          .slice(0, perEvent)
          .map((sighting) => ({ relay: sighting.relay, first_seen_at: Math.floor(sighting.first_seen_at.getTime() / 1000) })),
      };
    }
    return JSON.stringify(answer);
  };
  const most = Math.max(0, ...[...sightings.values()].map((seen) => seen.length));
  let perEvent = most;
  let content = answerWith(perEvent);
  // Widely copied events are seen on hundreds of relays: keep the earliest sightings of each.
  while (encodedBytes(content) > maxBytes && perEvent > 0) {
    perEvent = Math.floor(perEvent / 2);
    content = answerWith(perEvent);
  }
  return {
    content,
    tags: perEvent < most ? [['truncated', `at most ${perEvent} relays per event (earliest sightings); seen_on has the full number`]] : [],
  };
}

async function history(tx: Queryable, job: Extract<Job, { kind: typeof JOB_KIND.relayHistory }>, maxBytes: number): Promise<JobAnswer> {
  const found = await relayHistory(tx, { url: job.url, since: job.since, limit: job.maxResults });
  if (!found) throw new JobRefused(`${job.url} is not in the archive`);
  let answer = found;
  let content = JSON.stringify(answer);
  let cut = false;
  // Documents are the large part: drop the oldest first, then the oldest days.
  while (encodedBytes(content) > maxBytes && (answer.nip11.length > 0 || answer.days.length > 0)) {
    cut = true;
    answer = answer.nip11.length > 0 ? { ...answer, nip11: answer.nip11.slice(0, -1) } : { ...answer, days: answer.days.slice(0, -1) };
    content = JSON.stringify(answer);
  }
  return {
    content,
    tags: cut
      ? [
          [
            'truncated',
            `only the newest fit: ${answer.days.length} days and ${answer.nip11.length} NIP-11 documents; older ones were left out`,
          ],
        ]
      : [],
  };
}

export async function runJob(
  db: Database,
  job: Job,
  options: { statementTimeoutMs: number; maxResults: number; maxContentBytes: number },
): Promise<JobAnswer> {
  return readOnly(db, options.statementTimeoutMs, async (tx) => {
    switch (job.kind) {
      case JOB_KIND.eventCount:
        return eventCount(tx, job, options.maxResults, options.maxContentBytes);
      case JOB_KIND.archivedEvents:
        return archivedEvents(tx, job, options.maxContentBytes);
      case JOB_KIND.eventProvenance:
        return eventProvenance(tx, job, options.maxContentBytes);
      case JOB_KIND.relayHistory:
        return history(tx, job, options.maxContentBytes);
    }
  });
}
