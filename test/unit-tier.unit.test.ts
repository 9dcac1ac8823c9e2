/**
 * The fast tier (`npm run test:unit`) holds only tests of pure code: no database, no socket, no
 * child process, no relay. A `*.unit.test.ts` file that reached one would make the tier slow and
 * flaky without anyone noticing, so each file's imports are checked here.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../src/package-root.js';

const root = packageRoot();
/** Modules that open a database, start a relay or a process, or listen on a socket. */
const FORBIDDEN_MODULES = ['src/db/open.ts', 'src/test-relay/server.ts', 'test/support/database.ts', 'test/support/cli.ts'];
const FORBIDDEN_PACKAGES = ['ws', 'node:child_process', 'node:net', 'node:http', 'pg', '@electric-sql/pglite'];
const importPattern = /(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function specifiers(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(importPattern)].map((match) => (match[1] ?? match[2]) as string);
}

/** Every local module a file reaches through its imports, itself included. */
function reachable(file: string): Set<string> {
  const seen = new Set([file]);
  const queue = [file];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const specifier of specifiers(next)) {
      if (!specifier.startsWith('.')) continue;
      const target = resolve(dirname(next), specifier).replace(/\.js$/, '.ts');
      if (existsSync(target) && !seen.has(target)) {
        seen.add(target);
        queue.push(target);
      }
    }
  }
  return seen;
}

const unitTests = readdirSync(join(root, 'test'), { recursive: true })
  .map(String)
  .filter((name) => name.endsWith('.unit.test.ts'))
  .map((name) => join(root, 'test', name));

describe('the unit tier', () => {
  it('has tests', () => {
    expect(unitTests.length).toBeGreaterThan(10);
  });

  it.each(unitTests.map((file) => [relative(root, file), file]))('%s opens no database, relay, process or socket', (_name, file) => {
    expect(specifiers(file).filter((specifier) => FORBIDDEN_PACKAGES.includes(specifier))).toEqual([]);
    const reached = [...reachable(file)].map((module) => relative(root, module));
    expect(reached.filter((module) => FORBIDDEN_MODULES.includes(module))).toEqual([]);
  });
});
