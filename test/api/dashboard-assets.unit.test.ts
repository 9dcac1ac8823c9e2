/**
 * The dashboard's files are read once, when the routes are registered, and served from memory: a
 * file changed, removed or added afterwards does not change what is served; only servable names
 * are served.
 */
import { mkdtempSync, mkdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDashboardAssets, registerDashboard } from '../../src/api/dashboard.js';

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
