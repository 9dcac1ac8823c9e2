/**
 * The figures the code-health work is judged by, for a tree of TypeScript sources: lines, lines over
 * 120 / 140 / 200 / 300 characters, and functions (declarations, methods, arrow functions and function
 * expressions) longer than 60 lines from their first line to their closing brace, the longest listed.
 *
 *   npx tsx scripts/code-stats.ts [folder ...]   (default: src)
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const LONG_FUNCTION_LINES = 60;

function sourceFiles(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|js|mjs)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

interface LongFunction {
  where: string;
  name: string;
  lines: number;
}

function functionName(node: ts.Node): string {
  if ((ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isFunctionExpression(node)) && node.name)
    return node.name.getText();
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) return parent.name.getText();
  if (ts.isCallExpression(parent)) return `callback of ${parent.expression.getText().slice(0, 40)}`;
  return '(anonymous)';
}

function longFunctions(path: string): LongFunction[] {
  const text = readFileSync(path, 'utf8');
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const found: LongFunction[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = last - first + 1;
      if (lines > LONG_FUNCTION_LINES) found.push({ where: `${path}:${first + 1}`, name: functionName(node), lines });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const folders = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['src'];
const files = folders.flatMap(sourceFiles);
const lines = files.flatMap((path) => readFileSync(path, 'utf8').split('\n'));
const over = (width: number) => lines.filter((line) => line.length > width).length;
const functions = files.flatMap(longFunctions).sort((a, b) => b.lines - a.lines);
console.log(`files ${files.length}, lines ${lines.length}`);
console.log(`lines over 120: ${over(120)}, over 140: ${over(140)}, over 200: ${over(200)}, over 300: ${over(300)}`);
console.log(`functions over ${LONG_FUNCTION_LINES} lines: ${functions.length}`);
for (const fn of functions) console.log(`  ${String(fn.lines).padStart(4)}  ${fn.name}  ${relative(process.cwd(), fn.where)}`);
