/** Renders docs/configuration.md from the zod schema (the schema is the only place options are described). */
import { listOptions, type OptionDoc } from './schema-walk.js';
import { configSchema } from './schema.js';

function envName(path: string): string {
  return `BIGBROTR_${path
    .split('.')
    .map((part) => part.toUpperCase())
    .join('__')}`;
}

function formatDefault(value: unknown): string {
  if (value === undefined) return '(unset)';
  return `\`${JSON.stringify(value)}\``;
}

/** One table row: path, type, default, environment variable, then the flags and the description. */
function optionRow(option: OptionDoc, flags: string, description: string): string {
  const path = `\`${option.path}\``;
  const env = `\`${envName(option.path)}\``;
  return `| ${path} | ${option.type} | ${formatDefault(option.defaultValue)} | ${env} | ${flags ? `${flags} ` : ''}${description} |`;
}

/** The page's title and how the sources of configuration combine, before the per-section tables. */
const PREAMBLE: readonly string[] = [
  '# Configuration reference',
  '',
  '<!-- Generated from src/config/schema.ts by `npm run docs:config`. ' +
    'Do not edit by hand: a test fails when this file is out of date. -->',
  '',
  'Every option has a default; bigbrotr runs with no configuration at all (embedded PGlite in `./data`).',
  'Sources, later ones winning:',
  '',
  '1. the defaults below;',
  '2. a YAML file given with `--config PATH` or `BIGBROTR_CONFIG` (sections as top-level keys, e.g. `database:` then `pool_size: 20`);',
  '3. environment variables `BIGBROTR_<SECTION>__<KEY>` (double underscore between section and key, ' +
    'e.g. `BIGBROTR_DATABASE__POOL_SIZE=20`), plus the shorthands `BIGBROTR_DATABASE_URL` and `BIGBROTR_LOG_LEVEL`;',
  '4. `<VAR>_FILE` variants of any of those variables (e.g. `BIGBROTR_DATABASE_URL_FILE=/run/secrets/db_url`): ' +
    'the value is read from the file, trailing newline removed, and treated as a secret;',
  '5. command-line flags (`--log-level`, command options).',
  '',
  'Invalid values stop start-up with exit code 2 and one line per problem, naming the option ' +
    '(e.g. `database.pool_size: expected a positive integer (connections), got "abc"`).',
  'Unknown options are errors too, so a typo never goes unnoticed. ' +
    '`bigbrotr config check` validates; `bigbrotr config show` prints the effective config with secrets redacted.',
  '',
  '**SIGHUP** re-reads every source. Options marked *restart* keep their old value until the process restarts; a log line names them.',
  '',
];

export function renderConfigurationDoc(): string {
  const options = listOptions(configSchema);
  const sections = [...new Set(options.map((option) => option.path.split('.')[0] as string))];
  const lines: string[] = [...PREAMBLE];
  for (const section of sections) {
    lines.push(`## \`${section}\``, '', '| option | type | default | env | description |', '| --- | --- | --- | --- | --- |');
    for (const option of options.filter((candidate) => candidate.path.startsWith(`${section}.`))) {
      const flags = [option.secret ? '**secret**' : '', option.restartOnly ? '*restart*' : ''].filter(Boolean).join(' ');
      const description = option.description.replace(/\|/g, '\\|').replace(/\n/g, ' ');
      lines.push(optionRow(option, flags, description));
    }
    lines.push('');
  }
  return lines.join('\n');
}
