#!/usr/bin/env node
// Prints the test files that use the database under test, one per line: those whose imports reach
// src/db/open.ts or the test helpers that open one (test/support/database.ts, the CLI helper), or
// that read BIGBROTR_DATABASE_URL themselves. CI runs the whole suite on PGlite, then only these on
// PostgreSQL: the others never open the database under test, and would test the same thing twice.
// A file can opt out with the line `// database-under-test: none` (it opens no database, or always
// its own embedded one, like `bigbrotr demo`).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const openers = new Set(['src/db/open.ts', 'test/support/database.ts', 'test/support/cli.ts'].map((file) => join(root, file)));
const importPattern = /(?:import|export)[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

const importCache = new Map();
function importsOf(file) {
  if (!importCache.has(file)) {
    const imports = [];
    for (const match of readFileSync(file, 'utf8').matchAll(importPattern)) {
      const target = resolve(dirname(file), match[1] ?? match[2]).replace(/\.js$/, '.ts');
      if (existsSync(target)) imports.push(target);
    }
    importCache.set(file, imports);
  }
  return importCache.get(file);
}

function usesDatabase(testFile) {
  const text = readFileSync(testFile, 'utf8');
  if (/^\/\/ database-under-test: none\b/m.test(text)) return false;
  if (text.includes('BIGBROTR_DATABASE_URL')) return true;
  const seen = new Set([testFile]);
  const queue = [testFile];
  while (queue.length > 0) {
    const file = queue.shift();
    if (openers.has(file)) return true;
    for (const target of importsOf(file)) {
      if (!seen.has(target)) {
        seen.add(target);
        queue.push(target);
      }
    }
  }
  return false;
}

const tests = readdirSync(join(root, 'test'), { recursive: true })
  .filter((name) => name.endsWith('.test.ts'))
  .map((name) => join(root, 'test', name))
  .sort();
for (const file of tests) if (usesDatabase(file)) console.log(relative(root, file));
