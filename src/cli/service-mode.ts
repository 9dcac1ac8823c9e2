/** Commands without `--once` run their service under the supervisor until SIGINT/SIGTERM. */
import type { Database } from '../db/database.js';
import type { Service } from '../services/service.js';
import { superviseServices } from '../services/supervisor.js';
import type { CommandContext } from './context.js';

/** Exit code 1 when the service failed, else 0. */
export async function runServiceUntilStopped(
  context: CommandContext,
  db: Database,
  create: (options: { db: Database; config: () => CommandContext['loaded']['config']; logger: CommandContext['logger'] }) => Service,
): Promise<number> {
  const result = await superviseServices({
    services: [create({ db, config: () => context.loaded.config, logger: context.logger })],
    logger: context.logger,
    graceMs: () => context.loaded.config.shutdown.grace_ms,
  });
  return result.failed.length > 0 ? 1 : 0;
}
