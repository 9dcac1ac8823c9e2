/**
 * What every command needs before it does anything: the effective config (or a listed set of problems)
 * and a logger that scrubs secrets.
 */
import { loadConfig, type LoadedConfig } from '../config/loader.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { registerSecret } from '../observability/redact.js';
import { startTracing } from '../observability/tracing.js';
import { tuneEmbeddedMemory } from './embedded-memory.js';

export interface GlobalOptions {
  config?: string;
  logLevel?: string;
}

export interface CommandContext {
  loaded: LoadedConfig;
  logger: Logger;
  globals: GlobalOptions;
}

export function buildContext(globals: GlobalOptions, overrides: Record<string, unknown> = {}): CommandContext {
  const loaded = loadConfig({
    configFile: globals.config,
    overrides: { ...(globals.logLevel ? { 'log.level': globals.logLevel } : {}), ...overrides },
  });
  for (const value of loaded.secretValues) registerSecret(value);
  registerSecret(loaded.config.database.url);
  registerSecret(loaded.config.api.database_url);
  const logger = createLogger(loaded.config.log);
  tuneEmbeddedMemory(loaded.config.database);
  // Once per process (a second call keeps the provider running); main() flushes it before exiting.
  startTracing(loaded.config.tracing, logger);
  return { loaded, logger, globals };
}
