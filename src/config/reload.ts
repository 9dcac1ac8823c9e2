/**
 * SIGHUP support: compare two effective configs and name the options that changed, split into those a
 * running service can apply and those that need a restart.
 */
import { listOptions, restartOnlyPaths } from './schema-walk.js';
import { configSchema, type Config } from './schema.js';

/** Options a running service cannot change on SIGHUP (marked on the option in schema.ts). */
export const RESTART_ONLY_OPTIONS: readonly string[] = restartOnlyPaths(configSchema);

function valueAt(config: Config, path: string): unknown {
  let node: unknown = config;
  for (const part of path.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
  return node;
}

export interface ConfigChanges {
  /** Changed options that take effect now. */
  applied: string[];
  /** Changed options that keep their old value until restart. */
  restartRequired: string[];
}

export function diffConfig(previous: Config, next: Config): ConfigChanges {
  const applied: string[] = [];
  const restartRequired: string[] = [];
  for (const option of listOptions(configSchema)) {
    if (JSON.stringify(valueAt(previous, option.path)) === JSON.stringify(valueAt(next, option.path))) continue;
    (option.restartOnly ? restartRequired : applied).push(option.path);
  }
  return { applied, restartRequired };
}

/** The config services should use after a reload: new values, except restart-only options keep the old. */
export function mergeReloaded(previous: Config, next: Config): Config {
  const merged = structuredClone(next);
  for (const path of RESTART_ONLY_OPTIONS) {
    const parts = path.split('.');
    const section = parts[0] as keyof Config;
    const key = parts[1] as string;
    (merged[section] as Record<string, unknown>)[key] = (previous[section] as Record<string, unknown>)[key];
  }
  return merged;
}
