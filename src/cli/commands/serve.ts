import type { Command } from 'commander';
import type { ActionRunner } from '../action-runner.js';
import { buildContext, type GlobalOptions } from '../context.js';
import { withDatabase } from '../with-database.js';
import { runServiceUntilStopped } from '../service-mode.js';
import { createApiService } from '../../api/api-service.js';

const SERVE_DESCRIPTION =
  'Serve the archive: REST API (/v1, OpenAPI at /v1/openapi.json), the read-only archive relay (WebSocket on /), ' +
  'the dashboard (/), /metrics, /healthz, /readyz, on http.host:http.port, until SIGINT/SIGTERM';

export function registerServe(program: Command, run: ActionRunner): void {
  program
    .command('serve')
    .description(SERVE_DESCRIPTION)
    .action(() =>
      run(async () => {
        const context = buildContext(program.opts<GlobalOptions>());
        return withDatabase(context, (db) => runServiceUntilStopped(context, db, createApiService));
      }),
    );
}
