/**
 * Builds the effective config from, in order: schema defaults, a YAML file, `BIGBROTR_<SECTION>__<KEY>`
 * env vars, and `<VAR>_FILE` variants that read a value (usually a secret) from a file.
 * Every problem is collected and reported together; nothing here exits the process.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';
import { leafKind, secretPaths } from './schema-walk.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import { errorMessage } from '../error-message.js';

const ENV_PREFIX = 'BIGBROTR_';

/** Shorthand env vars documented in the README; each maps to one option. */
const ENV_ALIASES: Record<string, string> = {
  BIGBROTR_DATABASE_URL: 'database.url',
  BIGBROTR_LOG_LEVEL: 'log.level',
};

export interface LoadOptions {
  /** YAML config file; falls back to `BIGBROTR_CONFIG`. */
  configFile?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Values that win over everything else (CLI flags). Dotted paths. */
  overrides?: Record<string, unknown>;
}

export interface LoadedConfig {
  config: Config;
  /** Where each option that is not a default came from, e.g. `env BIGBROTR_HTTP__PORT`. */
  sources: Map<string, string>;
  /** Dotted paths whose values must never be shown (schema secrets and anything read from a *_FILE). */
  secretPaths: Set<string>;
  /** The secret values themselves, for scrubbing logs and errors. */
  secretValues: string[];
  configFile: string | undefined;
  /** The options this config was loaded with, so SIGHUP can load it again the same way. */
  options: LoadOptions;
}

type Tree = Record<string, unknown>;

function setPath(tree: Tree, path: string, value: unknown): void {
  const parts = path.split('.');
  let node: Tree = tree;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as Tree;
  }
  node[parts[parts.length - 1] as string] = value;
}

/** Env values are strings; convert them to what the option expects, leaving bad input for zod to report. */
function coerceEnvValue(path: string, raw: string): unknown {
  const kind = leafKind(configSchema, path);
  if (kind === 'number') {
    const trimmed = raw.trim();
    return trimmed !== '' && Number.isFinite(Number(trimmed)) ? Number(trimmed) : raw;
  }
  if (kind === 'boolean') {
    const lowered = raw.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(lowered)) return true;
    if (['false', '0', 'no', 'off'].includes(lowered)) return false;
    return raw;
  }
  if (kind === 'array')
    return raw
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  return raw;
}

function envNameToPath(name: string): string | undefined {
  if (name in ENV_ALIASES) return ENV_ALIASES[name];
  if (!name.startsWith(ENV_PREFIX)) return undefined;
  const rest = name.slice(ENV_PREFIX.length);
  if (!rest.includes('__')) return undefined;
  return rest
    .split('__')
    .map((part) => part.toLowerCase())
    .join('.');
}

function readYamlFile(file: string, problems: ConfigProblem[]): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    problems.push({ path: '(config file)', message: `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}` });
    return {};
  }
  try {
    const parsed: unknown = parseYaml(text);
    if (parsed === null || parsed === undefined) return {};
    if (typeof parsed !== 'object' || Array.isArray(parsed)) {
      problems.push({ path: '(config file)', message: `${file}: expected a mapping of sections at the top level` });
      return {};
    }
    return parsed as Tree;
  } catch (error) {
    problems.push({ path: '(config file)', message: `${file}: invalid YAML: ${errorMessage(error).split('\n')[0]}` });
    return {};
  }
}

function describeInput(issue: z.core.$ZodIssue): string {
  return issue.message;
}

/** Why api.database_url alone is refused, and the two ways out. */
const REPLICA_NEEDS_PRIMARY =
  'a read replica needs a PostgreSQL primary in database.url: the embedded database serves one process and has no replicas; ' +
  'unset api.database_url or set database.url';

/** Options that are valid alone but not together. */
function crossOptionProblems(config: Config, sources: Map<string, string>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (config.api.database_url !== undefined && !config.database.url) {
    const from = sources.get('api.database_url');
    problems.push({
      path: 'api.database_url',
      message: `${REPLICA_NEEDS_PRIMARY}${from ? ` (from ${from})` : ''}`,
    });
  }
  return problems;
}

/** What the layers gathered before validation: the merged tree, where each option came from, the secrets seen. */
interface Gathered {
  tree: Tree;
  sources: Map<string, string>;
  secretPaths: Set<string>;
  secretValues: string[];
  problems: ConfigProblem[];
}

export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const configFile = options.configFile ?? env.BIGBROTR_CONFIG ?? undefined;
  const gathered: Gathered = {
    tree: {},
    sources: new Map(),
    secretPaths: new Set(secretPaths(configSchema)),
    secretValues: [],
    problems: [],
  };
  if (configFile) readFileLayer(gathered, configFile);
  readEnvLayer(gathered, env);
  for (const [path, value] of Object.entries(options.overrides ?? {})) {
    if (value === undefined) continue;
    setPath(gathered.tree, path, value);
    gathered.sources.set(path, 'command line');
  }
  const { sources, problems } = gathered;
  const parsed = configSchema.safeParse(gathered.tree);
  if (!parsed.success) problems.push(...schemaProblems(parsed.error.issues, gathered));
  if (problems.length > 0) throw new ConfigError(problems);
  const config = parsed.data as Config;
  problems.push(...crossOptionProblems(config, sources));
  if (problems.length > 0) throw new ConfigError(problems);
  return { config, sources, secretPaths: gathered.secretPaths, secretValues: gathered.secretValues, configFile, options };
}

function readFileLayer(gathered: Gathered, configFile: string): void {
  gathered.tree = readYamlFile(configFile, gathered.problems);
  for (const [section, values] of Object.entries(gathered.tree)) {
    if (values && typeof values === 'object') {
      for (const key of Object.keys(values)) gathered.sources.set(`${section}.${key}`, `file ${configFile}`);
    }
  }
}

/**
 * Plain env vars first, then *_FILE variants (a file is the safer way to pass a secret, so it wins).
 * `BIGBROTR_SEED__FILE` is the plain variable of the option `seed.file`, not a *_FILE variant.
 */
function readEnvLayer(gathered: Gathered, env: NodeJS.ProcessEnv): void {
  const isFileVariant = (name: string) => {
    if (!name.endsWith('_FILE')) return false;
    const basePath = envNameToPath(name.slice(0, -'_FILE'.length));
    return basePath !== undefined && leafKind(configSchema, basePath) !== undefined;
  };
  const names = Object.keys(env).sort();
  for (const name of names) {
    if (isFileVariant(name)) continue;
    const path = envNameToPath(name);
    const raw = env[name];
    if (path === undefined || raw === undefined) continue;
    setPath(gathered.tree, path, coerceEnvValue(path, raw));
    gathered.sources.set(path, `env ${name}`);
    if (gathered.secretPaths.has(path) && raw !== '') gathered.secretValues.push(raw);
  }
  for (const name of names) if (isFileVariant(name)) readEnvFileVariable(gathered, name, env[name]);
}

function readEnvFileVariable(gathered: Gathered, name: string, file: string | undefined): void {
  const path = envNameToPath(name.slice(0, -'_FILE'.length));
  if (path === undefined || file === undefined) return;
  let value: string;
  try {
    value = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    gathered.problems.push({ path, message: `${name}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}` });
    return;
  }
  setPath(gathered.tree, path, coerceEnvValue(path, value));
  gathered.sources.set(path, `file ${name}`);
  gathered.secretPaths.add(path);
  if (value !== '') gathered.secretValues.push(value);
}

/** The schema's complaints, one per option, naming where the value came from and never showing a secret. */
function schemaProblems(issues: readonly z.core.$ZodIssue[], gathered: Gathered): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of issues) {
    const path = issue.path.map(String).join('.');
    const unknownKeys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    if (unknownKeys.length > 0) {
      for (const key of unknownKeys) {
        const fullPath = path ? `${path}.${key}` : key;
        const from = [...gathered.sources.entries()].find(([source]) => source === fullPath || source.startsWith(`${fullPath}.`))?.[1];
        problems.push({ path: fullPath, message: `unknown option${from ? ` (from ${from})` : ''}` });
      }
      continue;
    }
    const from = gathered.sources.get(path);
    const message = gathered.secretPaths.has(path) ? 'invalid value (secret, not shown)' : describeInput(issue);
    problems.push({ path: path || '(root)', message: from ? `${message} (from ${from})` : message });
  }
  return problems;
}
