/**
 * `bigbrotr export` / `bigbrotr import` through the real CLI: a JSONL file with good events (U+0000,
 * lone surrogates, emoji, huge tags), bad lines of every kind and copies is imported with provenance;
 * the archive is exported, imported into an empty database and exported again: same lines, byte for
 * byte, and every line's id recomputes from what it holds.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loader.js';
import type { ArchiveFilter } from '../../src/db/event-query.js';
import { openDatabase } from '../../src/db/open.js';
import { exportEvents } from '../../src/transfer/export-events.js';
import { computeEventId } from '../../src/nostr/event-id.js';
import type { NostrEvent } from '../../src/nostr/event.js';
import { signEvent } from '../../src/nostr/sign.js';
import { runCli } from '../support/cli.js';
import { createCliDatabase } from '../support/database.js';
import { generateEvents, testSecretKey, withBadSignature } from '../support/events.js';

type CliDatabase = Awaited<ReturnType<typeof createCliDatabase>>;
let source: CliDatabase;
let target: CliDatabase;
let workDir: string;

const key = testSecretKey('transfer', 0);
const tricky: NostrEvent[] = [
  signEvent({ kind: 1, created_at: 1_700_000_100, tags: [['t', 'nul\u0000tag']], content: 'nul \u0000 in content' }, key),
  signEvent({ kind: 1, created_at: 1_700_000_101, tags: [['alt', '\ud800']], content: 'lone \ud83d and \udc00 surrogates' }, key),
  signEvent(
    {
      kind: 30023,
      created_at: 1_700_000_102,
      tags: [
        ['d', ''],
        ['title', 'τίτλος 🧡'],
      ],
      content: '"quotes" \\ backslash\n newline',
    },
    key,
  ),
  signEvent(
    {
      kind: 3,
      created_at: 1_700_000_103,
      tags: Array.from({ length: 300 }, (_, index) => ['p', index.toString(16).padStart(64, '0')]),
      content: '',
    },
    key,
  ),
];
const plain = generateEvents({ count: 40, authors: 3, kinds: [1, 7], seed: 'transfer-plain' });
const good = [...tricky, ...plain];

beforeAll(async () => {
  [source, target] = await Promise.all([createCliDatabase(), createCliDatabase()]);
  workDir = mkdtempSync(join(tmpdir(), 'bigbrotr-transfer-'));
});
afterAll(async () => {
  await Promise.all([source?.dispose(), target?.dispose()]);
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

const parseLines = (text: string) =>
  text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as NostrEvent & { seen_on?: { relay: string; first_seen_at: number }[] });

describe('export and import', () => {
  it('imports good lines, counts bad ones by reason with line numbers, and stores copies once', async () => {
    const badId = { ...(plain[0] as NostrEvent), content: 'changed after signing' };
    const lines = [
      ...good.map((event) => JSON.stringify(event)),
      '',
      'not json at all',
      JSON.stringify(withBadSignature(plain[1] as NostrEvent)),
      JSON.stringify(badId),
      JSON.stringify({ ...(plain[2] as NostrEvent), kind: -1 }),
      JSON.stringify([1, 2, 3]),
      JSON.stringify(['EVENT', 'sub', plain[3]]), // a relay message: the event inside counts (a copy here)
      JSON.stringify(plain[4]), // a plain copy
      `{"content":"${'x'.repeat(40_000)}"}`, // longer than --max-line-bytes below
    ];
    const file = join(workDir, 'input.jsonl');
    writeFileSync(file, `${lines.join('\r\n')}`);
    const result = await runCli(
      ['import', '--input', file, '--relay', 'wss://origin.example', '--max-line-bytes', '30000', '--json'],
      source.env,
    );
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as {
      lines: number;
      blank: number;
      imported: number;
      alreadyArchived: number;
      newRelayLinks: number;
      rejected: Record<string, number>;
      examples: { line: number; reason: string }[];
    };
    expect(summary).toMatchObject({
      lines: good.length + 9,
      blank: 1,
      imported: good.length,
      alreadyArchived: 2,
      newRelayLinks: good.length,
    });
    expect(summary.rejected).toEqual({
      'not-json': 1,
      'bad-signature': 1,
      'id-mismatch': 1,
      'bad-kind': 1,
      'not-an-event': 1,
      'too-long': 1,
    });
    expect(summary.examples[0]).toEqual({ line: good.length + 2, reason: 'not-json' });

    // Importing the same file again stores nothing new.
    const again = await runCli(
      ['import', '--input', file, '--relay', 'wss://origin.example', '--max-line-bytes', '30000', '--json'],
      source.env,
    );
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ imported: 0, alreadyArchived: good.length + 2, newRelayLinks: 0 });
  });

  it('exports every event exactly as signed; export → import into an empty archive → export gives the same bytes', async () => {
    const out = join(workDir, 'export.jsonl');
    const exported = await runCli(['export', '--output', out], source.env);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stderr).toContain(`exported ${good.length} events`);
    const text = readFileSync(out, 'utf8');
    const events = parseLines(text);
    expect(events.map((event) => event.id).sort()).toEqual(good.map((event) => event.id).sort());
    const byId = new Map(good.map((event) => [event.id, event]));
    for (const event of events) {
      expect(event).toEqual(byId.get(event.id));
      expect(computeEventId(event)).toBe(event.id);
    }
    // Newest first.
    expect(events.map((event) => event.created_at)).toEqual([...events.map((event) => event.created_at)].sort((a, b) => b - a));

    const imported = await runCli(['import', '--input', out, '--json'], target.env);
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ imported: good.length, rejected: {} });
    const second = await runCli(['export'], target.env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toBe(text);
  });

  it('exports by kind, author, time and relay, with provenance on request', async () => {
    // The flags through the CLI once; the other filters on the export function itself (no process start each).
    const withProvenance = await runCli(
      [
        'export',
        '--relay',
        'wss://origin.example/',
        '--provenance',
        '--kinds',
        '7,30023',
        '--since',
        '1700000000',
        '--until',
        '2023-11-14T22:15:00Z',
      ],
      source.env,
    );
    expect(withProvenance.code, withProvenance.stderr).toBe(0);
    const expectedKinds = good.filter(
      (event) => [7, 30023].includes(event.kind) && event.created_at <= Date.parse('2023-11-14T22:15:00Z') / 1000,
    );
    const lines = parseLines(withProvenance.stdout);
    expect(lines.map((event) => event.id).sort()).toEqual(expectedKinds.map((event) => event.id).sort());
    for (const line of lines) {
      expect(line.seen_on?.map((sighting) => sighting.relay)).toEqual(['wss://origin.example/']);
      expect(line.seen_on?.[0]?.first_seen_at).toBeGreaterThan(1_700_000_000);
    }

    const db = await openDatabase(loadConfig({ env: source.env }).config.database);
    try {
      const exported = async (filter: ArchiveFilter) => {
        const chunks: string[] = [];
        const out = new Writable({
          write: (chunk: Buffer, _encoding, done) => {
            chunks.push(chunk.toString());
            done();
          },
        });
        await exportEvents(db, out, { filter, pageSize: 7 }); // several pages
        return parseLines(chunks.join(''))
          .map((event) => event.id)
          .sort();
      };
      const author = (plain[0] as NostrEvent).pubkey;
      const byAuthor = good.filter(
        (event) => event.pubkey === author && event.created_at >= 1_700_000_010 && event.created_at <= 1_700_000_030,
      );
      expect(byAuthor.length).toBeGreaterThan(0);
      expect(await exported({ authors: [author], since: 1_700_000_010, until: 1_700_000_030 })).toEqual(
        byAuthor.map((event) => event.id).sort(),
      );
      expect(await exported({})).toEqual(good.map((event) => event.id).sort());
      expect(await exported({ relay: 'wss://elsewhere.example/' })).toEqual([]);
    } finally {
      await db.close();
    }
  });

  it('refuses bad options with a message naming them', async () => {
    for (const [args, message] of [
      [['export', '--kinds', '1,x'], /--kinds: expected integers/],
      [['import', '--relay', 'https://not-a-relay.example'], /--relay: not a relay URL/],
      [['import', '--max-line-bytes', '10'], /--max-line-bytes: expected an integer of at least 1024/],
    ] as const) {
      const result = await runCli([...args], source.env);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(message);
    }
  });
});
