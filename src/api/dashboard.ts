/**
 * The dashboard: static files from the package's `dashboard/` folder (plain HTML, CSS and native ES
 * modules, no build step) and Chart.js from node_modules; `/` answers NIP-11 clients with the
 * archive's document instead.
 *
 * Every file is read once, when the routes are registered, and served from memory: a request never
 * touches the disk, and only the files found then can be served (no path from a request reaches the
 * file system, so `..` cannot escape the folder).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { packageRoot } from '../package-root.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};
const JS_TYPE = TYPES['.js'] as string;

/** Names the dashboard may serve: lower-case folders, and files of the types above a page needs. */
const SERVED_FOLDER = /^[a-z0-9-]+$/;
const SERVED_FILE = /^[a-z0-9-]+\.(js|css|svg|html)$/;

export interface DashboardAsset {
  body: Buffer;
  contentType: string;
}

/** Every servable file under `root`, by its path relative to `root` with `/` separators (`js/pages/relay.js`). */
export function loadDashboardAssets(root: string, prefix = ''): Map<string, DashboardAsset> {
  const assets = new Map<string, DashboardAsset>();
  for (const entry of readdirSync(join(root, prefix), { withFileTypes: true })) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory() && SERVED_FOLDER.test(entry.name)) {
      for (const [nested, asset] of loadDashboardAssets(root, path)) assets.set(nested, asset);
    } else if (entry.isFile() && SERVED_FILE.test(entry.name)) {
      assets.set(path, { body: readFileSync(join(root, path)), contentType: TYPES[extname(entry.name)] ?? 'application/octet-stream' });
    }
  }
  return assets;
}

export interface DashboardOptions {
  nip11: () => Record<string, unknown>;
  /** The folder to serve; the package's `dashboard/` unless a test says otherwise. */
  root?: string;
}

export function registerDashboard(app: FastifyInstance, options: DashboardOptions): void {
  const assets = loadDashboardAssets(options.root ?? join(packageRoot(), 'dashboard'));
  const index = assets.get('index.html');
  if (!index) throw new Error('bigbrotr: the dashboard has no index.html');
  // The UMD build sits beside the package's main file (it is not in its `exports`).
  const chartJs = readFileSync(join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js'));

  app.get('/', { schema: { hide: true } }, async (request, reply) => {
    if ((request.headers.accept ?? '').includes('application/nostr+json')) {
      return reply.header('access-control-allow-origin', '*').type('application/nostr+json').send(JSON.stringify(options.nip11()));
    }
    return reply.header('cache-control', 'no-cache').type(index.contentType).send(index.body);
  });
  app.get('/assets/chart.umd.min.js', { schema: { hide: true } }, async (_request, reply) =>
    reply.header('cache-control', 'public, max-age=86400').type(JS_TYPE).send(chartJs),
  );
  app.get('/assets/*', { schema: { hide: true } }, async (request, reply) => {
    const asset = assets.get((request.params as { '*': string })['*']);
    if (!asset) return reply.code(404).send({ error: 'not found', message: 'no such asset' });
    return reply.header('cache-control', 'no-cache').type(asset.contentType).send(asset.body);
  });
}
