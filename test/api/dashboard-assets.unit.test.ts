/**
 * The dashboard's files are read once, when the routes are registered, and served from memory: a
 * file changed, removed or added afterwards does not change what is served; only servable names
 * are served; and every ES module the page loads (the entry, then everything it imports) is there,
 * as JavaScript (browsers refuse a module served with another type).
 */
import { mkdtempSync, mkdirSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDashboardAssets, registerDashboard } from '../../src/api/dashboard.js';

const DASHBOARD = fileURLToPath(new URL('../../dashboard/', import.meta.url));

async function dashboardApp(root?: string): Promise<FastifyInstance> {
  const app = fastify();
  registerDashboard(app, { nip11: () => ({ name: 'test archive' }), root });
  await app.ready();
  return app;
}

describe('dashboard assets served from memory', () => {
  let root: string;
  let app: FastifyInstance;
  const write = (path: string, text: string) => writeFileSync(join(root, path), text);

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'bigbrotr-dashboard-'));
    mkdirSync(join(root, 'js', 'pages'), { recursive: true });
    mkdirSync(join(root, 'Private'));
    write('index.html', '<!doctype html><title>test</title>');
    write('style.css', 'body { color: red; }');
    write('js/main.js', "import './pages/home.js';");
    write('js/pages/home.js', 'export const home = 1;');
    write('README.md', 'not an asset');
    write('Private/secret.js', 'not an asset either');
    app = await dashboardApp(root);
  });

  afterAll(async () => {
    await app?.close();
    rmSync(root, { recursive: true, force: true });
  });

  const get = (url: string) => app.inject({ method: 'GET', url });

  it('lists every servable file, by its path under the folder', () => {
    expect([...loadDashboardAssets(root).keys()].sort()).toEqual(['index.html', 'js/main.js', 'js/pages/home.js', 'style.css']);
  });

  it('serves what was on disk at start-up, whatever happens to the files afterwards', async () => {
    write('js/pages/home.js', 'export const home = 2;');
    write('index.html', '<!doctype html><title>changed</title>');
    unlinkSync(join(root, 'style.css'));
    write('late.js', 'export {};');

    const module = await get('/assets/js/pages/home.js');
    expect(module.statusCode).toBe(200);
    expect(module.body).toBe('export const home = 1;');
    expect(module.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(module.headers['cache-control']).toBe('no-cache');
    expect((await get('/')).body).toBe('<!doctype html><title>test</title>');
    const style = await get('/assets/style.css');
    expect(style.statusCode).toBe(200);
    expect(style.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(style.body).toBe('body { color: red; }');
    expect((await get('/assets/late.js')).statusCode).toBe(404);
  });

  it('refuses unknown names and paths out of the folder', async () => {
    for (const url of [
      '/assets/README.md',
      '/assets/Private/secret.js',
      '/assets/js/missing.js',
      '/assets/js',
      '/assets/..%2Fpackage.json',
      '/assets/js/..%2F..%2Fpackage.json',
    ]) {
      const answer = await get(url);
      expect(answer.statusCode, url).toBe(404);
      expect(answer.json(), url).toEqual({ error: 'not found', message: 'no such asset' });
    }
  });

  it('still serves Chart.js from node_modules', async () => {
    const chart = await get('/assets/chart.umd.min.js');
    expect(chart.statusCode).toBe(200);
    expect(chart.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(chart.headers['cache-control']).toBe('public, max-age=86400');
    expect(chart.body).toContain('Chart');
  });
});

/** The `from '…'` and bare `import '…'` specifiers of a module. */
function importedSpecifiers(source: string): string[] {
  return [...source.matchAll(/^\s*(?:import|export)\s(?:[^'";]*?\sfrom\s)?\s*['"]([^'"]+)['"]/gm)].map((match) => match[1] as string);
}

describe('the dashboard page and its modules', () => {
  let app: FastifyInstance;

  beforeAll(async () => {
    app = await dashboardApp();
  });

  afterAll(async () => {
    await app?.close();
  });

  it('serves the entry and every module it imports, transitively, as JavaScript', async () => {
    const page = await app.inject({ method: 'GET', url: '/' });
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    const entries = [...page.body.matchAll(/<script type="module" src="([^"]+)"><\/script>/g)].map((match) => match[1] as string);
    expect(entries).toEqual(['/assets/js/main.js']);
    expect(page.body).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/); // no inline script

    const seen = new Set<string>();
    const pending = [...entries];
    while (pending.length > 0) {
      const url = pending.pop() as string;
      if (seen.has(url)) continue;
      seen.add(url);
      const module = await app.inject({ method: 'GET', url });
      expect(module.statusCode, url).toBe(200);
      expect(module.headers['content-type'], url).toBe('text/javascript; charset=utf-8');
      for (const specifier of importedSpecifiers(module.body)) {
        expect(specifier, `${url} imports ${specifier}`).toMatch(/^\.\.?\//);
        pending.push(new URL(specifier, `http://dashboard${url}`).pathname);
      }
    }
    expect(seen.size).toBeGreaterThan(5);
    // Every module in dashboard/js is part of the page: none left over, none missing.
    const onDisk = (folder: string): string[] =>
      readdirSync(join(DASHBOARD, folder), { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory() ? onDisk(`${folder}/${entry.name}`) : entry.name.endsWith('.js') ? [`/assets/${folder}/${entry.name}`] : [],
      );
    expect([...seen].sort()).toEqual(onDisk('js').sort());
  });
});
