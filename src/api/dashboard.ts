/**
 * The dashboard: static files from the package's `dashboard/` folder (plain HTML, CSS and ES
 * modules, no build step) and Chart.js from node_modules; `/` answers NIP-11 clients with the
 * archive's document instead.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { packageRoot } from '../package-root.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

export function registerDashboard(app: FastifyInstance, options: { nip11: () => Record<string, unknown> }): void {
  const root = join(packageRoot(), 'dashboard');
  // The UMD build sits beside the package's main file (it is not in its `exports`).
  const chartJs = join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js');
  const file = (path: string) => readFileSync(path);

  app.get('/', { schema: { hide: true } }, async (request, reply) => {
    if ((request.headers.accept ?? '').includes('application/nostr+json')) {
      return reply.header('access-control-allow-origin', '*').type('application/nostr+json').send(JSON.stringify(options.nip11()));
    }
    return reply
      .header('cache-control', 'no-cache')
      .type(TYPES['.html'] as string)
      .send(file(join(root, 'index.html')));
  });
  app.get('/assets/chart.umd.min.js', { schema: { hide: true } }, async (_request, reply) =>
    reply
      .header('cache-control', 'public, max-age=86400')
      .type(TYPES['.js'] as string)
      .send(file(chartJs)),
  );
  app.get('/assets/:name', { schema: { hide: true } }, async (request, reply) => {
    const name = (request.params as { name: string }).name;
    const path = normalize(join(root, name));
    if (!/^[a-z0-9-]+\.(js|css|svg|html)$/.test(name) || !path.startsWith(root))
      return reply.code(404).send({ error: 'not found', message: 'no such asset' });
    try {
      return reply
        .header('cache-control', 'no-cache')
        .type(TYPES[extname(name)] ?? 'application/octet-stream')
        .send(file(path));
    } catch {
      return reply.code(404).send({ error: 'not found', message: 'no such asset' });
    }
  });
}
