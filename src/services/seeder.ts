/**
 * The seeder: loads relay URLs from a seed file (or the list shipped with bigbrotr) into the relay
 * table as candidates. Relays named by the operator are trusted, so private addresses are accepted here.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Database } from '../db/database.js';
import { insertCandidates } from '../db/relays.js';
import type { Logger } from '../observability/logger.js';
import { packageRoot } from '../package-root.js';
import { parseSeedList, type SeedProblem } from './seed-list.js';

export class SeedFileError extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`cannot read seed file ${path}: ${reason}`);
    this.name = 'SeedFileError';
  }
}

export interface SeedResult {
  file: string;
  /** Valid, distinct URLs in the file. */
  valid: number;
  /** Of those, new to the relay table. */
  inserted: number;
  alreadyKnown: number;
  duplicatesInFile: number;
  problems: SeedProblem[];
}

export function defaultSeedFile(): string {
  return join(packageRoot(), 'seeds', 'relays.txt');
}

export async function readSeedFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : (code ?? String(error));
    throw new SeedFileError(path, reason);
  }
}

export async function seedRelays(
  db: Database,
  options: {
    file?: string | undefined;
    maxUrlLength: number;
    logger: Logger;
    /** The file's text when the caller already read it. */ text?: string;
  },
): Promise<SeedResult> {
  const file = options.file ?? defaultSeedFile();
  const text = options.text ?? (await readSeedFile(file));
  const parsed = parseSeedList(text, { maxUrlLength: options.maxUrlLength });
  for (const problem of parsed.problems) {
    options.logger.warn(
      { file, line: problem.line, text: problem.text, reason: problem.reason },
      `seed file ${file} line ${problem.line}: ${problem.reason}`,
    );
  }
  const { inserted, alreadyKnown } = await insertCandidates(
    db,
    parsed.entries.map((entry) => ({ url: entry.url, network: entry.network })),
    'seed',
  );
  options.logger.info({ file, valid: parsed.entries.length, inserted, alreadyKnown, rejected: parsed.problems.length }, 'seed list loaded');
  return {
    file,
    valid: parsed.entries.length,
    inserted,
    alreadyKnown,
    duplicatesInFile: parsed.duplicates,
    problems: parsed.problems,
  };
}
