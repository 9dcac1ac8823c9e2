/**
 * The single source of truth for every option: its type, default and description.
 * `docs/configuration.md` is generated from this file (`npm run docs:config`).
 *
 * Keys are snake_case so that env vars map one to one:
 * `BIGBROTR_DATABASE__POOL_SIZE` -> `database.pool_size`.
 */
import { z } from 'zod';

const positiveInt = (what: string) =>
  z.number({ error: (issue) => `expected a positive integer (${what}), got ${JSON.stringify(issue.input)}` })
    .int({ error: (issue) => `expected a positive integer (${what}), got ${JSON.stringify(issue.input)}` })
    .positive({ error: (issue) => `expected a positive integer (${what}), got ${JSON.stringify(issue.input)}` });

const nonNegativeInt = (what: string) =>
  z.number({ error: (issue) => `expected a non-negative integer (${what}), got ${JSON.stringify(issue.input)}` })
    .int({ error: (issue) => `expected a non-negative integer (${what}), got ${JSON.stringify(issue.input)}` })
    .nonnegative({ error: (issue) => `expected a non-negative integer (${what}), got ${JSON.stringify(issue.input)}` });

const bool = () =>
  z.boolean({ error: (issue) => `expected true or false, got ${JSON.stringify(issue.input)}` });

const port = () =>
  z.number({ error: (issue) => `expected a TCP port (0-65535), got ${JSON.stringify(issue.input)}` })
    .int({ error: (issue) => `expected a TCP port (0-65535), got ${JSON.stringify(issue.input)}` })
    .min(0, { error: (issue) => `expected a TCP port (0-65535), got ${JSON.stringify(issue.input)}` })
    .max(65535, { error: (issue) => `expected a TCP port (0-65535), got ${JSON.stringify(issue.input)}` });

/** Marks an option as secret: redacted by `config show`, never logged. */
export const SECRET = 'secret' as const;

export const databaseSchema = z
  .object({
    url: z
      .string()
      .optional()
      .meta({
        description:
          'PostgreSQL connection URL (postgres://user:password@host:port/db). Unset: the embedded PGlite database in `data_dir` is used. Also read from `BIGBROTR_DATABASE_URL` and `BIGBROTR_DATABASE_URL_FILE`.',
        [SECRET]: true,
      }),
    data_dir: z.string().min(1).default('./data').meta({ description: 'Directory of the embedded PGlite database (used when `url` is unset).' }),
    data_dir_wait_ms: positiveInt('milliseconds').default(120_000).meta({ description: 'How long a process waits for another bigbrotr process to release the embedded database (PGlite serves one process at a time) before failing with the owner\'s pid.' }),
    pool_size: positiveInt('connections').default(10).meta({ description: 'Maximum PostgreSQL connections per process.' }),
    connect_timeout_ms: positiveInt('milliseconds').default(10_000).meta({ description: 'Timeout for opening one PostgreSQL connection.' }),
    statement_timeout_ms: nonNegativeInt('milliseconds').default(60_000).meta({ description: 'PostgreSQL `statement_timeout` for every connection (0 = none).' }),
    idle_timeout_ms: positiveInt('milliseconds').default(30_000).meta({ description: 'Close pooled PostgreSQL connections idle for this long.' }),
    ssl_mode: z
      .enum(['disable', 'prefer', 'require', 'verify-ca', 'verify-full'])
      .default('prefer')
      .meta({ description: 'TLS to PostgreSQL. `prefer` uses what the URL says (`?sslmode=`), else plain; `require` encrypts without checking the certificate; `verify-ca`/`verify-full` check it against `ssl_ca_file` (verify-full also checks the host name).' }),
    ssl_ca_file: z.string().optional().meta({ description: 'PEM file of the CA that signed the PostgreSQL server certificate.' }),
    migrate_lock_timeout_ms: positiveInt('milliseconds').default(120_000).meta({ description: 'How long `migrate` waits for another process holding the migration lock.' }),
    insert_batch_size: positiveInt('events').default(2_000).meta({ description: 'Events per bulk insert statement.' }),
  })
  .strict();

export const logSchema = z
  .object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').meta({ description: 'Minimum log level. Also `BIGBROTR_LOG_LEVEL`.' }),
    format: z.enum(['auto', 'json', 'pretty']).default('auto').meta({ description: '`json` always; `pretty` human-readable; `auto` pretty on a TTY, JSON otherwise.' }),
  })
  .strict();

export const httpSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1').meta({ description: 'Address the metrics/health HTTP server binds to.' }),
    port: port().default(9464).meta({ description: 'Port of the metrics/health HTTP server (`/metrics`, `/healthz`, `/readyz`); 0 picks a free port.' }),
    enabled: bool().default(true).meta({ description: 'Start the metrics/health server in `bigbrotr run`.' }),
    readiness_timeout_ms: positiveInt('milliseconds').default(2_000).meta({ description: 'How long `/readyz` waits for the database to answer.' }),
  })
  .strict();

export const seedSchema = z
  .object({
    file: z.string().optional().meta({ description: 'Seed file (one relay URL per line, `#` comments). Unset: the list shipped with bigbrotr (`seeds/relays.txt`).' }),
    on_start: bool().default(true).meta({ description: 'Load the seed list when `bigbrotr run` starts.' }),
  })
  .strict();

export const relayUrlSchema = z
  .object({
    max_length: positiveInt('characters').default(512).meta({ description: 'Longest relay URL accepted; longer ones are refused.' }),
    allow_private: bool().default(false).meta({ description: 'Accept discovered URLs that point at private, loopback or link-local addresses. Relays named by the operator (seed file, `--relay`) are always accepted.' }),
  })
  .strict();

export const relaySchema = z
  .object({
    connect_timeout_ms: positiveInt('milliseconds').default(10_000).meta({ description: 'WebSocket handshake timeout (TCP, TLS, HTTP upgrade) per relay.' }),
    request_timeout_ms: positiveInt('milliseconds').default(30_000).meta({ description: 'Longest wait for a subscription to end (EOSE or CLOSED) or an OK after publishing.' }),
    idle_timeout_ms: positiveInt('milliseconds').default(15_000).meta({ description: 'A subscription with no message for this long is given up (relays that never send EOSE).' }),
    max_payload_bytes: positiveInt('bytes').default(4 * 1024 * 1024).meta({ description: 'Largest WebSocket message accepted from a relay; a larger one closes the connection.' }),
    per_message_deflate: bool().default(false).meta({ description: 'Offer permessage-deflate compression. Off: several times less CPU; on: less bandwidth.' }),
    socks_proxy_url: z.string().optional().meta({ description: 'SOCKS5 proxy for `.onion` relays, e.g. `socks5h://127.0.0.1:9050` (Tor). Unset: onion relays are skipped.', [SECRET]: true }),
  })
  .strict();

export const limitsSchema = z
  .object({
    event_max_tags: positiveInt('tags').default(10_000).meta({ description: 'Events with more tags are refused as malformed (never stored).' }),
    event_max_tag_values: positiveInt('values').default(1_000).meta({ description: 'Events with a tag of more values are refused.' }),
    event_max_length: positiveInt('characters').default(4 * 1024 * 1024).meta({ description: 'Events whose content plus tag strings are longer are refused.' }),
    nip11_max_bytes: positiveInt('bytes').default(256 * 1024).meta({ description: 'Largest NIP-11 document accepted from a relay.' }),
  })
  .strict();

export const syncSchema = z
  .object({
    enabled: bool().default(true).meta({ description: 'Run the synchronizer inside `bigbrotr run`.' }),
    concurrency: positiveInt('relays').default(8).meta({ description: 'Relays synchronised at the same time by one process.' }),
    interval_seconds: positiveInt('seconds').default(300).meta({ description: 'A relay is revisited this long after its last pass ended.' }),
    idle_poll_seconds: positiveInt('seconds').default(10).meta({ description: 'When no relay is due, look again after this long.' }),
    failure_backoff_seconds: positiveInt('seconds').default(60).meta({ description: 'After a failed pass a relay rests this long, doubling with each consecutive failure (with jitter).' }),
    failure_backoff_max_seconds: positiveInt('seconds').default(6 * 3_600).meta({ description: 'Longest rest after repeated failures (the circuit breaker\'s open state).' }),
    lease_seconds: positiveInt('seconds').default(600).meta({ description: 'How long a process holds a relay; renewed while the pass runs, taken over by others if the process dies.' }),
    page_limit: positiveInt('events').default(500).meta({ description: 'The `limit` asked per page; relays may cap it lower silently (handled) and NIP-11 `max_limit` lowers it.' }),
    max_pages_per_pass: positiveInt('pages').default(200_000).meta({ description: 'Bound on pages (REQ and COUNT) for one pass over one relay; reaching it is logged and the pass resumes next time.' }),
    max_kinds_per_filter: positiveInt('kinds').default(4_096).meta({ description: 'Largest `kinds` list sent in one filter when a crowded second is split by kind.' }),
    since: nonNegativeInt('unix seconds').default(0).meta({ description: 'Oldest created_at a first pass reaches back to.' }),
    rescan_window_seconds: nonNegativeInt('seconds').default(3_600).meta({ description: 'Each new pass re-scans this much before the archived point, catching late or backdated events.' }),
  })
  .strict();

export const verifySchema = z
  .object({
    workers: nonNegativeInt('threads').default(0).meta({ description: 'Signature verification worker threads; 0 = one per CPU core.' }),
    batch_size: positiveInt('events').default(500).meta({ description: 'Events handed to a verification worker at once.' }),
  })
  .strict();

export const shutdownSchema = z
  .object({
    grace_ms: positiveInt('milliseconds').default(10_000).meta({ description: 'On SIGTERM/SIGINT, how long services may take to finish their batch before they are abandoned.' }),
  })
  .strict();

export const configSchema = z
  .object({
    database: databaseSchema.default(databaseSchema.parse({})),
    log: logSchema.default(logSchema.parse({})),
    http: httpSchema.default(httpSchema.parse({})),
    seed: seedSchema.default(seedSchema.parse({})),
    relay_url: relayUrlSchema.default(relayUrlSchema.parse({})),
    relay: relaySchema.default(relaySchema.parse({})),
    limits: limitsSchema.default(limitsSchema.parse({})),
    sync: syncSchema.default(syncSchema.parse({})),
    verify: verifySchema.default(verifySchema.parse({})),
    shutdown: shutdownSchema.default(shutdownSchema.parse({})),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type DatabaseConfig = Config['database'];
export type LogConfig = Config['log'];
export type HttpConfig = Config['http'];
export type RelayClientConfig = Config['relay'];
export type LimitsConfig = Config['limits'];
export type SyncConfig = Config['sync'];

/**
 * Options that a running service cannot change on SIGHUP; a reload that changes them logs their names
 * and keeps the old values until restart.
 */
export const RESTART_ONLY_OPTIONS: readonly string[] = [
  'database.url',
  'database.data_dir',
  'database.pool_size',
  'database.connect_timeout_ms',
  'database.statement_timeout_ms',
  'database.idle_timeout_ms',
  'database.ssl_mode',
  'database.ssl_ca_file',
  'http.host',
  'http.port',
  'http.enabled',
  'verify.workers',
];
