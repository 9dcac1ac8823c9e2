/**
 * The single source of truth for every option: its type, default and description.
 * `docs/configuration.md` is generated from this file (`npm run docs:config`).
 *
 * Keys are snake_case so that env vars map one to one:
 * `BIGBROTR_DATABASE__POOL_SIZE` -> `database.pool_size`.
 */
import { z } from 'zod';
import { nonNegativeInt, port, positiveInt, quotingInput } from '../zod-numbers.js';

const bool = () => z.boolean({ error: quotingInput('expected true or false') });

/** Marks an option as secret: redacted by `config show`, never logged. */
export const SECRET = 'secret' as const;

/**
 * Marks an option a running service cannot change on SIGHUP: a reload that changes it logs its name
 * and keeps the old value until restart.
 */
export const RESTART_ONLY = 'restart_only' as const;

export const databaseSchema = z
  .object({
    url: z
      .string()
      .optional()
      .meta({
        [RESTART_ONLY]: true,
        description:
          'PostgreSQL connection URL (postgres://user:password@host:port/db). Unset: the embedded PGlite database in `data_dir` ' +
          'is used. Also read from `BIGBROTR_DATABASE_URL` and `BIGBROTR_DATABASE_URL_FILE`. A server not on this machine ' +
          '(other than 127.0.0.0/8, ::1, localhost, a unix socket) needs a password of at least 16 characters that is not a ' +
          'common default or the user name: start-up fails otherwise (docs/database.md).',
        [SECRET]: true,
      }),
    data_dir: z
      .string()
      .min(1)
      .default('./data')
      .meta({ [RESTART_ONLY]: true, description: 'Directory of the embedded PGlite database (used when `url` is unset).' }),
    embedded_settings: z
      .array(z.string().regex(/^[a-z_][a-z0-9_.]*=\S.*$/, { error: 'expected name=value, e.g. shared_buffers=32MB' }))
      .default(['shared_buffers=32MB'])
      .meta({
        [RESTART_ONLY]: true,
        description:
          'PostgreSQL settings for the embedded database (`name=value`, comma-separated in env). Its memory is WebAssembly ' +
          'memory that never shrinks, so the buffer cache is kept small by default.',
      }),
    embedded_heap_growth_percent: nonNegativeInt('percent')
      .max(400)
      .default(20)
      .meta({
        [RESTART_ONLY]: true,
        description:
          'With the embedded database only: after each full garbage collection, V8 lets the JavaScript heap grow this many ' +
          "percent over what survived it (V8 `--heap-growing-percent`). V8's own factor lets a long sync pile up hundreds of " +
          "megabytes of garbage beside the embedded database's memory; 20 took `bigbrotr sync` of 200,000 events from 506-595 " +
          "MB to 389-444 MB, for up to a tenth more time (within the benchmark machine's ±20 %; docs/benchmarks.md). 0 = V8's " +
          'default. Not applied with `database.url`.',
      }),
    embedded_release_memory_ms: nonNegativeInt('milliseconds')
      .default(1_000)
      .meta({
        [RESTART_ONLY]: true,
        description:
          'With the embedded database only: how often memory the C allocator holds free is given back to the system (glibc ' +
          '`malloc_trim`, through the native addon; skipped without it). V8 frees about 100 MB after compiling the embedded ' +
          'database, which glibc would otherwise keep. 0 = never. Not applied with `database.url`.',
      }),
    data_dir_wait_ms: positiveInt('milliseconds')
      .default(120_000)
      .meta({
        description:
          'How long a process waits for another bigbrotr process to release the embedded database (PGlite serves one process at a ' +
          "time) before failing with the owner's pid.",
      }),
    pool_size: positiveInt('connections')
      .default(10)
      .meta({ [RESTART_ONLY]: true, description: 'Maximum PostgreSQL connections per process.' }),
    connect_timeout_ms: positiveInt('milliseconds')
      .default(10_000)
      .meta({ [RESTART_ONLY]: true, description: 'Timeout for opening one PostgreSQL connection.' }),
    statement_timeout_ms: nonNegativeInt('milliseconds')
      .default(60_000)
      .meta({
        [RESTART_ONLY]: true,
        description:
          'PostgreSQL `statement_timeout` for every connection (0 = none), sent as a start-up parameter. Behind PgBouncer: list ' +
          '`statement_timeout` in its `ignore_startup_parameters` and set the timeout on the role or database instead, or set 0 ' +
          '(docs/database.md).',
      }),
    idle_timeout_ms: positiveInt('milliseconds')
      .default(30_000)
      .meta({ [RESTART_ONLY]: true, description: 'Close pooled PostgreSQL connections idle for this long.' }),
    ssl_mode: z
      .enum(['disable', 'prefer', 'require', 'verify-ca', 'verify-full'])
      .default('prefer')
      .meta({
        [RESTART_ONLY]: true,
        description:
          'TLS to PostgreSQL. `prefer` uses what the URL says (`?sslmode=`), else plain; `require` encrypts without checking ' +
          'the certificate; `verify-ca`/`verify-full` check it against `ssl_ca_file` (verify-full also checks the host name).',
      }),
    ssl_ca_file: z
      .string()
      .optional()
      .meta({ [RESTART_ONLY]: true, description: 'PEM file of the CA that signed the PostgreSQL server certificate.' }),
    migrate_lock_timeout_ms: positiveInt('milliseconds')
      .default(120_000)
      .meta({ description: 'How long `migrate` waits for another process holding the migration lock.' }),
    insert_batch_size: positiveInt('events').default(2_000).meta({ description: 'Events per bulk insert statement.' }),
  })
  .strict();

export const logSchema = z
  .object({
    level: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info')
      .meta({ description: 'Minimum log level. Also `BIGBROTR_LOG_LEVEL`.' }),
    format: z
      .enum(['auto', 'json', 'pretty'])
      .default('auto')
      .meta({ description: '`json` always; `pretty` human-readable; `auto` pretty on a TTY, JSON otherwise.' }),
  })
  .strict();

export const httpSchema = z
  .object({
    host: z
      .string()
      .min(1)
      .default('127.0.0.1')
      .meta({ [RESTART_ONLY]: true, description: 'Address the metrics/health HTTP server binds to.' }),
    port: port()
      .default(9464)
      .meta({
        [RESTART_ONLY]: true,
        description:
          'Port of the HTTP server (`/metrics`, `/healthz`, `/readyz`, and with `api.enabled` the API, archive relay and ' +
          'dashboard); 0 picks a free port.',
      }),
    enabled: bool()
      .default(true)
      .meta({ [RESTART_ONLY]: true, description: 'Start the metrics/health server in `bigbrotr run`.' }),
    readiness_timeout_ms: positiveInt('milliseconds')
      .default(2_000)
      .meta({ description: 'How long `/readyz` waits for the database to answer.' }),
  })
  .strict();

export const seedSchema = z
  .object({
    file: z.string().optional().meta({
      description: 'Seed file (one relay URL per line, `#` comments). Unset: the list shipped with bigbrotr (`seeds/relays.txt`).',
    }),
    on_start: bool().default(true).meta({ description: 'Load the seed list when `bigbrotr run` starts.' }),
  })
  .strict();

export const relayUrlSchema = z
  .object({
    max_length: positiveInt('characters').default(512).meta({ description: 'Longest relay URL accepted; longer ones are refused.' }),
    allow_private: bool()
      .default(false)
      .meta({
        description:
          'Accept discovered URLs that point at private, loopback or link-local addresses. Relays named by the operator (seed ' +
          'file, `--relay`) are always accepted.',
      }),
    blacklist: z
      .array(z.string().min(1))
      .default([])
      .meta({
        description:
          'Relays never contacted, as patterns: `*` matches any run of characters; a pattern with `://` matches the whole ' +
          'normalised URL (`wss://relay.example.com/`), one without matches the host (`*.example.com`). Comma-separated in env.',
      }),
    whitelist: z
      .array(z.string().min(1))
      .default([])
      .meta({
        description:
          'When not empty, only relays matching one of these patterns (same syntax as `blacklist`) are contacted; the blacklist ' +
          'still applies.',
      }),
  })
  .strict();

export const relaySchema = z
  .object({
    connect_timeout_ms: positiveInt('milliseconds')
      .default(10_000)
      .meta({ description: 'WebSocket handshake timeout (TCP, TLS, HTTP upgrade) per relay.' }),
    request_timeout_ms: positiveInt('milliseconds')
      .default(30_000)
      .meta({ description: 'Longest wait for a subscription to end (EOSE or CLOSED) or an OK after publishing.' }),
    idle_timeout_ms: positiveInt('milliseconds')
      .default(15_000)
      .meta({ description: 'A subscription with no message for this long is given up (relays that never send EOSE).' }),
    max_payload_bytes: positiveInt('bytes')
      .default(4 * 1024 * 1024)
      .meta({ description: 'Largest WebSocket message accepted from a relay; a larger one closes the connection.' }),
    per_message_deflate: bool()
      .default(false)
      .meta({ description: 'Offer permessage-deflate compression. Off: several times less CPU; on: less bandwidth.' }),
    socks_proxy_url: z
      .string()
      .optional()
      .meta({
        description: 'SOCKS5 proxy for `.onion` relays, e.g. `socks5h://127.0.0.1:9050` (Tor). Unset: onion relays are skipped.',
        [SECRET]: true,
      }),
    i2p_proxy_url: z
      .string()
      .optional()
      .meta({
        description:
          "SOCKS5 proxy for `.i2p` relays, e.g. `socks5h://127.0.0.1:4447` (i2pd's SOCKS proxy). Unset: I2P relays are skipped " +
          '(never checked, synchronised or retired).',
        [SECRET]: true,
      }),
    loki_proxy_url: z
      .string()
      .optional()
      .meta({
        description:
          'SOCKS5 proxy for `.loki` relays: a SOCKS5 server on a host connected to Lokinet, which resolves `.loki` names. ' +
          'Unset: Lokinet relays are skipped (never checked, synchronised or retired).',
        [SECRET]: true,
      }),
    socks_proxy_for: z
      .enum(['onion', 'all'])
      .default('onion')
      .meta({
        description:
          'Which relays go through `socks_proxy_url`: only `.onion` ones, or `all` (every relay connection through Tor, hiding ' +
          "the archiver's address).",
      }),
  })
  .strict();

export const limitsSchema = z
  .object({
    event_max_tags: positiveInt('tags')
      .default(10_000)
      .meta({ description: 'Events with more tags are refused as malformed (never stored).' }),
    event_max_tag_values: positiveInt('values').default(1_000).meta({ description: 'Events with a tag of more values are refused.' }),
    event_max_length: positiveInt('characters')
      .default(4 * 1024 * 1024)
      .meta({ description: 'Events whose content plus tag strings are longer are refused.' }),
    nip11_max_bytes: positiveInt('bytes')
      .default(256 * 1024)
      .meta({ description: 'Largest NIP-11 document accepted from a relay.' }),
  })
  .strict();

export const syncSchema = z
  .object({
    enabled: bool()
      .default(true)
      .meta({ [RESTART_ONLY]: true, description: 'Run the synchronizer inside `bigbrotr run`.' }),
    concurrency: positiveInt('relays')
      .default(8)
      .meta({ [RESTART_ONLY]: true, description: 'Relays synchronised at the same time by one process.' }),
    interval_seconds: positiveInt('seconds')
      .default(300)
      .meta({ description: 'A relay is revisited this long after its last pass ended.' }),
    idle_poll_seconds: positiveInt('seconds').default(10).meta({ description: 'When no relay is due, look again after this long.' }),
    failure_backoff_seconds: positiveInt('seconds')
      .default(60)
      .meta({ description: 'After a failed pass a relay rests this long, doubling with each consecutive failure (with jitter).' }),
    failure_backoff_max_seconds: positiveInt('seconds')
      .default(6 * 3_600)
      .meta({ description: "Longest rest after repeated failures (the circuit breaker's open state)." }),
    lease_seconds: positiveInt('seconds')
      .default(600)
      .meta({ description: 'How long a process holds a relay; renewed while the pass runs, taken over by others if the process dies.' }),
    page_limit: positiveInt('events')
      .default(500)
      .meta({ description: 'The `limit` asked per page; relays may cap it lower silently (handled) and NIP-11 `max_limit` lowers it.' }),
    max_pages_per_pass: positiveInt('requests')
      .default(200_000)
      .meta({
        description:
          'Bound on requests (REQ pages, COUNTs, negentropy sessions) for one pass over one relay; reaching it is logged and the ' +
          'rest of the window waits for the next pass.',
      }),
    pass_time_budget_seconds: positiveInt('seconds')
      .default(600)
      .meta({
        description:
          'A pass over one relay stops after this long, keeping what it committed; the rest of its window waits for the next pass ' +
          '(logged). With `relay.request_timeout_ms` this bounds every pass.',
      }),
    max_kinds_per_filter: positiveInt('kinds')
      .default(4_096)
      .meta({
        description:
          'Longest `kinds` list sent in one filter (crowded seconds are split by kind) until a relay refuses it; what each relay ' +
          'accepts is then learned and kept.',
      }),
    max_authors_per_filter: positiveInt('authors')
      .default(500)
      .meta({ description: 'Longest `authors` list sent in one filter until a relay refuses it (then learned per relay).' }),
    max_ids_per_filter: positiveInt('ids')
      .default(500)
      .meta({
        description:
          'Longest `ids` list sent in one filter (NIP-77 fetches by id) until a relay refuses it (then learned per relay). strfry ' +
          'drops the connection on a message over 128 KiB: 500 ids are 33 KB.',
      }),
    max_filters_per_request: positiveInt('filters')
      .default(100)
      .meta({
        description:
          'Most filters sent in one REQ (used to sweep the kinds of a crowded second) until a relay refuses it (then learned per ' +
          'relay; nostream and rnostr take 10 and say so).',
      }),
    max_request_bytes: positiveInt('bytes')
      .default(65_536)
      .meta({
        description:
          "Largest REQ message sent (lowered by a relay's NIP-11 `max_message_length`); strfry drops the connection past 128 KiB " +
          'without a word.',
      }),
    limits_reprobe_seconds: positiveInt('seconds')
      .default(7 * 86_400)
      .meta({
        description:
          "Filter limits learned from a relay's refusals are used this long, then the configured sizes are tried again (relays change).",
      }),
    count_timeout_ms: positiveInt('milliseconds').default(3_000).meta({
      description:
        'Longest wait for a NIP-45 COUNT answer (some relays ignore COUNT silently); a relay that does not answer is remembered as such.',
    }),
    max_page_bytes: positiveInt('bytes')
      .default(4 * 1024 * 1024)
      .meta({
        description:
          'A page whose events weigh more is cut (CLOSE sent) and the rest asked for in smaller pages, so huge events cannot ' +
          'pile up in memory.',
      }),
    max_bytes_in_flight: positiveInt('bytes')
      .default(64 * 1024 * 1024)
      .meta({
        [RESTART_ONLY]: true,
        description:
          'Bytes of fetched events held by one process between fetching and committing, across all relays; passes wait for ' +
          'room. With `concurrency` × (`max_page_bytes` + `relay.max_payload_bytes`) this bounds the memory relays can make us ' +
          'use.',
      }),
    owed_retry_seconds: positiveInt('seconds')
      .default(300)
      .meta({
        description:
          "An owed window (a part of a relay's history a pass could not prove archived) is tried again after this long, doubling " +
          'with each attempt.',
      }),
    owed_retry_max_seconds: positiveInt('seconds')
      .default(86_400)
      .meta({ description: 'Longest wait between two attempts at an owed window.' }),
    owed_windows_per_pass: positiveInt('windows')
      .default(100)
      .meta({ description: 'Owed windows worked in one pass over a relay (newest first); the others wait for later passes.' }),
    withheld_recheck_seconds: positiveInt('seconds')
      .default(7 * 86_400)
      .meta({ description: 'Ids a relay lists in NIP-77 but does not serve us are not asked for again until this long has passed.' }),
    max_reconnects_per_pass: nonNegativeInt('reconnects')
      .default(40)
      .meta({
        description:
          'Reconnects within one pass when the relay closes the connection for a reason we can avoid (a negentropy reply larger ' +
          'than `relay.max_payload_bytes`).',
      }),
    since: nonNegativeInt('unix seconds').default(0).meta({ description: 'Oldest created_at a first pass reaches back to.' }),
    rescan_window_seconds: nonNegativeInt('seconds')
      .default(3_600)
      .meta({ description: 'Each new pass re-scans this much before the archived point, catching late or backdated events.' }),
    priority_relays: z
      .array(z.string().min(1))
      .default([])
      .meta({
        [RESTART_ONLY]: true,
        description:
          'Relay URLs synchronised first, with `priority_slots` of the concurrency reserved for them. Checked at start-up: an ' +
          'invalid URL is a configuration error.',
      }),
    priority_file: z
      .string()
      .optional()
      .meta({
        [RESTART_ONLY]: true,
        description: 'A file of priority relay URLs (one per line, `#` comments), added to `priority_relays`; read at start-up.',
      }),
    priority_slots: nonNegativeInt('relays')
      .default(2)
      .meta({
        [RESTART_ONLY]: true,
        description:
          'Of `concurrency`, this many slots only take priority relays, so they always have room (at most `concurrency` - 1 ' +
          'when there are other relays).',
      }),
    retry_attempts: nonNegativeInt('retries')
      .default(3)
      .meta({
        description:
          'Retries of a relay pass after a network error (each resumes from the committed cursor). Protocol and validation errors ' +
          'are never retried.',
      }),
    retry_initial_delay_ms: positiveInt('milliseconds')
      .default(1_000)
      .meta({ description: 'First delay before a retry; it grows exponentially with jitter.' }),
    retry_max_delay_ms: positiveInt('milliseconds')
      .default(30_000)
      .meta({ description: 'Longest delay between retries, and between attempts to reach an unavailable database.' }),
    min_request_interval_ms: nonNegativeInt('milliseconds')
      .default(20)
      .meta({
        description:
          'Least time between the starts of two requests (REQ, COUNT, NEG-OPEN) to one relay: at most 50 a second by default ' +
          '(nostr-relay-nestjs blocks an address for 10 minutes past 100 REQs a second).',
      }),
    rate_limit_retries: nonNegativeInt('retries').default(6).meta({
      description: "How often one request refused with `rate-limited:` is retried, each time after doubling the relay's request interval.",
    }),
    rate_limit_delay_ms: positiveInt('milliseconds').default(1_000).meta({
      description:
        "Request interval adopted at a relay's first `rate-limited:` reply (then doubled on each further one, up to `retry_max_delay_ms`).",
    }),
    per_relay_metrics: bool()
      .default(true)
      .meta({
        description:
          'Export per-relay metric series (events by outcome, errors by type, lag). Switch off when thousands of relays make too ' +
          'many series.',
      }),
    full_pass_interval_seconds: nonNegativeInt('seconds')
      .default(7 * 86_400)
      .meta({
        description:
          'A pass over the whole history (from `since`) runs when the last one is older than this, catching late or backdated ' +
          'events older than the re-scan window (0 = never).',
      }),
    negentropy: z
      .enum(['auto', 'off'])
      .default('auto')
      .meta({
        description:
          'NIP-77 negentropy: `auto` reconciles with relays that answer NEG-OPEN (probed, the answer remembered) and pages with ' +
          'REQ otherwise; `off` always pages with REQ.',
      }),
    negentropy_recheck_seconds: positiveInt('seconds')
      .default(7 * 86_400)
      .meta({ description: 'A relay that did not answer NEG-OPEN is probed again after this long.' }),
    negentropy_timeout_ms: positiveInt('milliseconds')
      .default(15_000)
      .meta({ description: 'Longest wait for one NEG-MSG reply during reconciliation.' }),
    negentropy_probe_timeout_ms: positiveInt('milliseconds')
      .default(3_000)
      .meta({
        description:
          'Whether a relay speaks NIP-77 is asked with NEG-OPEN over its last minute; a relay silent this long is taken as not ' +
          'speaking it (some ignore unknown messages without a word), and asked again after `negentropy_recheck_seconds`.',
      }),
    negentropy_frame_size_limit: nonNegativeInt('bytes')
      .refine((bytes) => bytes === 0 || bytes >= 4_096, { message: 'expected 0 (unlimited) or at least 4096 bytes' })
      .default(60_000)
      .meta({
        description:
          "Largest negentropy message we send (0 = unlimited, else at least 4096); keeps frames under relays' message size limits.",
      }),
    negentropy_max_local_records: positiveInt('events')
      .default(500_000)
      .meta({ description: 'Most archived ids reconciled in one negentropy session; larger windows are split in time.' }),
    durable_commits: bool()
      .default(false)
      .meta({
        description:
          'Wait for each stored batch to reach disk before going on (`synchronous_commit` as the server sets it). Off (the ' +
          'default), with PostgreSQL: batches commit with `SET LOCAL synchronous_commit = off`, so a crash of the PostgreSQL ' +
          'server can lose the last fraction of a second of batches, always together with the cursor saved in the same ' +
          'transaction: the next pass fetches them again and nothing is left half-stored; a crash of bigbrotr itself loses ' +
          'nothing committed. The embedded database always commits durably (it runs inside bigbrotr, so its crash is ours).',
      }),
    negentropy_full_range: bool()
      .default(true)
      .meta({
        description:
          'On relays that speak NIP-77, every pass reconciles the whole retained history (cheap when little changed), so late and ' +
          'backdated events arrive on the next pass instead of the next full pass.',
      }),
  })
  .strict();

export const finderSchema = z
  .object({
    enabled: bool()
      .default(true)
      .meta({
        [RESTART_ONLY]: true,
        description: 'Run the finder inside `bigbrotr run`: mine archived events for relay URLs and add them as candidates.',
      }),
    interval_seconds: positiveInt('seconds').default(300).meta({ description: 'Time between two scans of newly archived events.' }),
    batch_size: positiveInt('events').default(5_000).meta({ description: 'Events read per query while scanning the archive.' }),
    scan_lag_seconds: nonNegativeInt('seconds').default(60).meta({
      description:
        'Events archived less than this long ago are left for the next scan, so that slower concurrent transactions are not skipped.',
    }),
    revive_after_seconds: nonNegativeInt('seconds')
      .default(7 * 86_400)
      .meta({ description: 'A retired relay mentioned again after being retired this long becomes a candidate again.' }),
    relay_scan: bool()
      .default(true)
      .meta({
        description:
          "Also ask active relays directly for kinds 10002 and 30166 (relay lists, other monitors' reports), paged like the " +
          'synchronizer, from where the last scan of each relay ended.',
      }),
    relays_per_round: positiveInt('relays')
      .default(50)
      .meta({ description: 'Active relays asked directly per finder round (those asked longest ago first).' }),
    relay_scan_max_pages: positiveInt('pages').default(200).meta({ description: 'Bound on pages per relay in one direct scan.' }),
    external_lists: z
      .array(z.string().url())
      .default([])
      .meta({
        description:
          'HTTP(S) URLs returning a JSON array of relay URLs (strings, or objects with a `url` field), as public relay ' +
          'directories do; fetched each round.',
      }),
    external_list_timeout_ms: positiveInt('milliseconds')
      .default(15_000)
      .meta({ description: 'Time limit for fetching one external list.' }),
    external_list_max_bytes: positiveInt('bytes')
      .default(5 * 1024 * 1024)
      .meta({ description: 'Largest external list body accepted; a larger one is refused.' }),
  })
  .strict();

export const validatorSchema = z
  .object({
    enabled: bool()
      .default(true)
      .meta({
        [RESTART_ONLY]: true,
        description: 'Run the validator inside `bigbrotr run`: probe candidate relays and promote those that answer like relays.',
      }),
    concurrency: positiveInt('relays').default(16).meta({ description: 'Candidates probed at the same time by one process.' }),
    idle_poll_seconds: positiveInt('seconds').default(30).meta({ description: 'When no candidate is due, look again after this long.' }),
    probe_timeout_ms: positiveInt('milliseconds')
      .default(10_000)
      .meta({ description: 'Time a candidate has to accept the WebSocket and answer a REQ (EOSE, EVENT or CLOSED).' }),
    max_attempts: positiveInt('probes').default(5).meta({ description: 'Consecutive failed probes before a candidate may be retired.' }),
    retire_after_seconds: nonNegativeInt('seconds')
      .default(3 * 86_400)
      .meta({ description: 'A candidate is retired only when it has also been failing for at least this long.' }),
    retry_backoff_seconds: positiveInt('seconds')
      .default(600)
      .meta({ description: 'Wait after a failed probe, doubling with each consecutive failure (with jitter).' }),
    retry_backoff_max_seconds: positiveInt('seconds')
      .default(86_400)
      .meta({ description: 'Longest wait between two probes of one candidate.' }),
    dns_servers: z
      .array(z.string().min(1))
      .default([])
      .meta({
        description:
          'Name servers (`host` or `host:port`) used to resolve candidate hosts for the private-address check; empty = the ' +
          "system's (/etc/resolv.conf).",
      }),
  })
  .strict();

export const monitorSchema = z
  .object({
    enabled: bool()
      .default(true)
      .meta({
        [RESTART_ONLY]: true,
        description:
          'Run the monitor inside `bigbrotr run`: NIP-11 and NIP-66 health checks of every active relay, stored as history, ' +
          'optionally published as signed NIP-66 events.',
      }),
    interval_seconds: positiveInt('seconds').default(3_600).meta({
      description: 'A relay is checked again this long after its last check (also the `frequency` announced in the kind 10166 event).',
    }),
    idle_poll_seconds: positiveInt('seconds').default(30).meta({ description: 'When no relay is due, look again after this long.' }),
    concurrency: positiveInt('relays').default(50).meta({ description: 'Relays checked at the same time by one process.' }),
    nip11_timeout_ms: positiveInt('milliseconds')
      .default(10_000)
      .meta({ description: 'Time limit for fetching the NIP-11 document (connection, redirects and body).' }),
    nip11_max_redirects: nonNegativeInt('redirects')
      .default(3)
      .meta({ description: 'Redirects followed when fetching a NIP-11 document (each target screened like the relay itself).' }),
    open_timeout_ms: positiveInt('milliseconds')
      .default(10_000)
      .meta({ description: 'Time limit for the WebSocket handshake (the `open` check).' }),
    read_timeout_ms: positiveInt('milliseconds')
      .default(10_000)
      .meta({ description: 'Time limit for an answer (EVENT, EOSE or CLOSED) to one REQ (the `read` check).' }),
    write_timeout_ms: positiveInt('milliseconds')
      .default(10_000)
      .meta({ description: 'Time limit for the OK answering our test event (the `write` check).' }),
    dns_timeout_ms: positiveInt('milliseconds')
      .default(5_000)
      .meta({ description: 'Time limit for the A/AAAA lookups (the `dns` check).' }),
    tls_timeout_ms: positiveInt('milliseconds')
      .default(10_000)
      .meta({ description: "Time limit for the TLS handshake that reads a wss relay's certificate (the `ssl` check)." }),
    write_check: bool()
      .default(true)
      .meta({
        description:
          "Publish a small ephemeral event to test writing (recorded as accepted or rejected with the relay's reason). Off: no " +
          'event is ever sent to relays.',
      }),
    write_check_kind: z
      .number()
      .int()
      .min(20_000)
      .max(29_999, { error: 'expected an ephemeral kind (20000-29999)' })
      .default(20_166)
      .meta({ description: 'Kind of the write-check event: ephemeral (20000-29999) so relays need not keep it.' }),
    claim_probes: bool()
      .default(true)
      .meta({
        description:
          'Test what each relay claims in NIP-11 (`supported_nips` 50, 40, 9, 70; `limitation` auth_required, max_subscriptions, ' +
          'created_at limits, max_content_length, max_event_tags) with bounded probes on one connection, one request at a time; ' +
          'results are `verified`, `refuted` (with the evidence) or `untested` per claim (`/v1/relays/detail`, ' +
          '`/v1/relays?verified_nip=`, `bigbrotr stats`, the 30166 `claim` tags).',
      }),
    claim_probe_interval_seconds: positiveInt('seconds')
      .default(604_800)
      .meta({ description: "A relay's claims are probed again this long after the last probe (default a week)." }),
    claim_probe_writes: bool()
      .default(false)
      .meta({
        description:
          'Let the claim probes publish (needs `write_check` too): kind 1 events saying what they are, deleted afterwards, to ' +
          'test NIP-09, NIP-40, NIP-70 and the write limits. Off: only read probes run, and those claims stay `untested`.',
      }),
    claim_probe_timeout_ms: positiveInt('milliseconds')
      .default(5_000)
      .meta({ description: 'Time limit of the probe connection and of each probe request.' }),
    claim_probe_pace_ms: nonNegativeInt('milliseconds')
      .default(500)
      .meta({ description: 'Pause between two probe requests to one relay (politeness; rate limits).' }),
    dns_servers: z.array(z.string().min(1)).default([]).meta({
      description:
        "Name servers (`host` or `host:port`) for the `dns` check and for resolving relay hosts; empty = the system's (/etc/resolv.conf).",
    }),
    geoip_city_database: z.string().optional().meta({
      description: 'Path of a MaxMind-format city database (GeoLite2-City.mmdb or compatible) for the `geo` check. Unset: no geolocation.',
    }),
    geoip_asn_database: z
      .string()
      .optional()
      .meta({ description: 'Path of a MaxMind-format ASN database (GeoLite2-ASN.mmdb or compatible) for the `geo` check. Unset: no ASN.' }),
    geohash_precision: z
      .number()
      .int()
      .min(1)
      .max(12, { error: 'expected 1-12 characters' })
      .default(9)
      .meta({ description: 'Characters of the geohash stored and published (`g` tag); fewer is coarser (5 = about 5 km).' }),
    tls_ca_file: z
      .string()
      .optional()
      .meta({
        description:
          'PEM file of extra certificate authorities trusted by the `ssl` check and by `nip11` fetches besides the system ones ' +
          '(private CAs).',
      }),
    lease_seconds: positiveInt('seconds')
      .default(300)
      .meta({ description: 'How long a process holds a relay while checking it; other processes skip it meanwhile.' }),
    feed_circuit_breaker: bool()
      .default(true)
      .meta({
        description:
          'A relay whose WebSocket does not open is benched for the synchronizer (with backoff), and a relay the monitor benched ' +
          'is released as soon as it opens again.',
      }),
    publish: bool()
      .default(false)
      .meta({
        description:
          'Publish a signed kind 30166 event per checked relay and a kind 10166 announcement (NIP-66), signed with ' +
          '`identity.secret_key`, to `publish_relays`, and store them in the archive.',
      }),
    publish_relays: z
      .array(z.string().min(1))
      .default([])
      .meta({ description: 'Relay URLs the NIP-66 events are sent to. Checked at start-up.' }),
    profile_name: z
      .string()
      .min(1)
      .max(100)
      .default('bigbrotr monitor')
      .meta({
        description:
          "The monitor's name in the kind 0 profile it publishes with `publish` (NIP-66: a monitor SHOULD have one, so clients " +
          'can show who reports).',
      }),
    profile_about: z
      .string()
      .max(2_000)
      .default('Relay health checks (NIP-66) by bigbrotr: open, read, write, NIP-11, DNS, TLS.')
      .meta({ description: "The `about` text of the monitor's kind 0 profile." }),
    profile_picture: z.string().url().optional().meta({ description: "Picture URL of the monitor's kind 0 profile (unset: none)." }),
    profile_relays: z
      .array(z.string().min(1))
      .default([])
      .meta({
        description:
          "Relays listed in the monitor's kind 10002 relay list, where clients find its reports; empty: `publish_relays`. Checked " +
          'at start-up.',
      }),
    publish_nip11_content: bool()
      .default(true)
      .meta({ description: "Put the relay's NIP-11 document (as served) in the content of its kind 30166 event." }),
    user_agent: z
      .string()
      .min(1)
      .default('bigbrotr-monitor')
      .meta({ description: 'User-Agent of NIP-11 requests and WebSocket handshakes.' }),
  })
  .strict();

export const maintenanceSchema = z
  .object({
    enabled: bool()
      .default(true)
      .meta({
        description:
          'Run the maintenance service inside `bigbrotr run`: partitions created ahead of time, retention, orphan metadata ' +
          'cleanup, ANALYZE (docs/maintenance.md). One process at a time runs it (leased).',
      }),
    interval_seconds: positiveInt('seconds').default(3_600).meta({ description: 'Time between two maintenance runs.' }),
    partitions_ahead_months: positiveInt('months')
      .default(3)
      .meta({
        description:
          '`relay_check` partitions exist for the current month and this many months ahead; `event` partitions for the current ' +
          'year, the next one, and any year these months reach (with `event_partition_interval: month`: for the current month and ' +
          'this many months ahead).',
      }),
    event_partition_interval: z
      .enum(['year', 'month'])
      .default('year')
      .meta({
        description:
          'Range of the `event` partitions the maintenance creates: `year` (`event_yYYYY`) or `month` (`event_yYYYYmMM`: ' +
          'retention drops a month at a time, at the cost of 12 times more partitions for queries to visit). Existing partitions ' +
          'are kept and never overlapped: with `month`, an existing partition of another range that reaches the months created ' +
          'ahead and holds at most 10,000 rows (the yearly partitions of migration 0001 still empty) is replaced by monthly ones; ' +
          'a fuller one keeps its range until retention drops it (docs/maintenance.md).',
      }),
    event_retention_days: nonNegativeInt('days')
      .default(0)
      .meta({
        description:
          'Events are removed a whole partition (a year, or a month with `event_partition_interval: month`) at a time once the ' +
          "partition's whole `created_at` range is older than this (with their `event_relay` rows). 0 = keep forever (an archive " +
          'keeps everything). The default partition is never dropped.',
      }),
    check_retention_days: nonNegativeInt('days')
      .default(400)
      .meta({
        description:
          "Check history (`relay_check`) is removed a whole monthly partition at a time once the partition's whole `checked_at` " +
          'range is older than this. 0 = keep forever.',
      }),
    orphan_grace_seconds: nonNegativeInt('seconds')
      .default(86_400)
      .meta({ description: 'Metadata documents no check points to are removed only when first seen longer ago than this.' }),
    batch_size: positiveInt('rows').default(5_000).meta({
      description: 'Rows per statement when removing the `event_relay` rows of a dropped event partition or orphan metadata documents.',
    }),
    lock_timeout_ms: positiveInt('milliseconds')
      .default(10_000)
      .meta({
        description:
          "How long a partition creation, drop or cleanup waits for a busy table's lock before giving up until the next run " +
          '(readers and writers queue behind a waiting DDL statement).',
      }),
  })
  .strict();

export const apiSchema = z
  .object({
    enabled: bool()
      .default(true)
      .meta({
        [RESTART_ONLY]: true,
        description:
          'Serve the REST API (`/v1`), the archive relay (WebSocket on `/`) and the dashboard (`/`) on the HTTP server ' +
          '(`http.host`:`http.port`), in `bigbrotr run` and `bigbrotr serve`.',
      }),
    database_url: z
      .string()
      .min(1)
      .optional()
      .meta({
        [RESTART_ONLY]: true,
        description:
          'PostgreSQL connection URL of a read replica of `database.url` (a streaming-replication standby, say). Set: the REST ' +
          "API, the statistics, the dashboard's data and the archive relay read from it, while every write and every service " +
          'stays on `database.url`; `/readyz` reports both. Its pool and TLS settings are those of `database.*`, the password ' +
          'rule of `database.url` applies. Requires `database.url` (the embedded database has no replicas: refused at ' +
          'start-up). What readers see lags the archive by the replication delay, live archive relay subscriptions included ' +
          '(docs/runbook.md). Also `BIGBROTR_API__DATABASE_URL` and `BIGBROTR_API__DATABASE_URL_FILE`.',
        [SECRET]: true,
      }),
    page_size_default: positiveInt('events').default(100).meta({ description: 'Items per page when a request gives no `limit`.' }),
    page_size_max: positiveInt('events').default(500).meta({ description: 'Hard cap on items per page (a larger `limit` is a 400).' }),
    statement_timeout_ms: positiveInt('milliseconds')
      .default(5_000)
      .meta({ description: 'Each API query is cancelled after this long (the client gets a 503).' }),
    rate_limit_per_minute: nonNegativeInt('requests')
      .default(600)
      .meta({
        [RESTART_ONLY]: true,
        description: 'Requests per minute per client address on `/v1` (0 = no limit); beyond it, 429 with Retry-After.',
      }),
    trust_proxy: bool()
      .default(false)
      .meta({
        [RESTART_ONLY]: true,
        description: 'Take the client address from X-Forwarded-For (behind a reverse proxy) for rate limits.',
      }),
    stats_cache_seconds: nonNegativeInt('seconds')
      .default(60)
      .meta({ description: 'Network statistics (events per day, kinds, software, countries) are computed at most this often.' }),
    relay_enabled: bool()
      .default(true)
      .meta({
        [RESTART_ONLY]: true,
        description: 'Serve the read-only archive relay (NIP-01 REQ/CLOSE, NIP-45 COUNT, NIP-11) on WebSocket connections to `/`.',
      }),
    relay_max_connections: positiveInt('connections')
      .default(1_000)
      .meta({ description: 'Open WebSocket connections to the archive relay at once; more are refused with HTTP 503.' }),
    relay_max_connections_per_address: positiveInt('connections').default(20).meta({
      description:
        'Open archive relay connections from one client address; more are refused with HTTP 429, so one client cannot take every slot.',
    }),
    relay_requests_per_minute: nonNegativeInt('requests')
      .default(600)
      .meta({
        description:
          'REQ and COUNT messages one client address may send per minute to the archive relay (0 = unlimited); more are answered ' +
          'CLOSED `rate-limited:`.',
      }),
    relay_send_budget_bytes: positiveInt('bytes')
      .default(256 * 1024)
      .meta({
        description:
          'Replies an archive relay connection may have unread in our send buffer before we wait for it to read (a slow link is ' +
          'served, at its pace).',
      }),
    relay_send_timeout_seconds: positiveInt('seconds')
      .default(30)
      .meta({ description: 'An archive relay client past its send budget that reads nothing for this long is disconnected.' }),
    relay_held_bytes: positiveInt('bytes')
      .default(64 * 1024 * 1024)
      .meta({
        description:
          'Query results held, across all archive relay clients, while slow clients read; a client that would take more is ' +
          'disconnected. Memory for replies is bounded by relay_max_connections × relay_send_budget_bytes + this.',
      }),
    relay_idle_seconds: positiveInt('seconds').default(300).meta({
      description:
        'An archive relay connection that sends no message for this long is closed, whatever control frames (pings, pongs) it sends.',
    }),
    relay_max_subscriptions: positiveInt('subscriptions')
      .default(20)
      .meta({ description: 'Open subscriptions per archive relay connection.' }),
    relay_live_poll_ms: nonNegativeInt('milliseconds')
      .default(1_000)
      .meta({
        description:
          'After EOSE, archive relay subscriptions receive newly archived events that match their filters, read from the archive ' +
          'this often (one query for all subscribers; works through PgBouncer transaction pooling, no LISTEN). 0: nothing is ' +
          'streamed after EOSE.',
      }),
    relay_live_lag_ms: nonNegativeInt('milliseconds')
      .default(2_000)
      .meta({
        description:
          'Live events are read once archived at least this long ago, so that storing transactions that started earlier have ' +
          'committed (their `archived_at` is their start): an event whose transaction took longer reaches live subscribers late ' +
          'or not at all (it is always in the archive).',
      }),
    relay_live_batch: positiveInt('events')
      .default(5_000)
      .meta({ description: 'Most newly archived events read per live poll (the next poll follows at once when it was full).' }),
    relay_max_filters: positiveInt('filters').default(10).meta({ description: 'Filters per REQ or COUNT.' }),
    relay_max_filter_values: positiveInt('values')
      .default(1_000)
      .meta({ description: 'Values per filter field (ids, authors, kinds, each tag).' }),
    relay_max_limit: positiveInt('events')
      .default(500)
      .meta({ description: 'Most events returned for one REQ (also the limit when a filter has none).' }),
    relay_max_message_bytes: positiveInt('bytes')
      .default(65_536)
      .meta({ description: 'Largest message accepted from an archive relay client.' }),
  })
  .strict();

export const verifySchema = z
  .object({
    workers: nonNegativeInt('threads')
      .default(0)
      .meta({
        [RESTART_ONLY]: true,
        description:
          'Signature verification worker threads; 0 = one per CPU core with PostgreSQL, one with the embedded database (its ' +
          'insert rate is the limit there, and each worker costs about 80 MB).',
      }),
    batch_size: positiveInt('events')
      .default(500)
      .meta({ [RESTART_ONLY]: true, description: 'Events handed to a verification worker at once (a page is spread over every worker).' }),
    known_signatures: nonNegativeInt('signatures')
      .optional()
      .meta({
        [RESTART_ONLY]: true,
        description:
          'Signatures a process remembers as verified (about 250 bytes each, the oldest half forgotten when full): a copy of ' +
          'such an event from another relay gets only its id checked, not a second signature verification. Unset: 100,000 with ' +
          'PostgreSQL, 20,000 with the embedded database (whose process is kept under 400 MB). 0 = verify every copy.',
      }),
  })
  .strict();

export const dvmSchema = z
  .object({
    enabled: bool()
      .default(false)
      .meta({
        [RESTART_ONLY]: true,
        description:
          'Run the NIP-90 data vending machine inside `bigbrotr run`: it listens on `dvm.relays` for job requests about the ' +
          "archive (event counts, archived events by filter, where an event was seen, a relay's uptime and NIP-11 history) and " +
          'publishes the results there, signed with `identity.secret_key`. Job kinds: docs/nips.md.',
      }),
    relays: z
      .array(z.string().min(1))
      .default([])
      .meta({
        [RESTART_ONLY]: true,
        description:
          'Relays the machine listens on for job requests and publishes results and feedback to (required when `enabled`). ' +
          'Checked at start-up.',
      }),
    reply_to_request_relays: bool()
      .default(true)
      .meta({
        description:
          'Also publish each result to the relays the request names in its `relays` tag (NIP-90: SHOULD), at most ' +
          '`max_reply_relays` of them, screened like any discovered relay URL (no private addresses unless ' +
          '`relay_url.allow_private`).',
      }),
    max_reply_relays: nonNegativeInt('relays')
      .max(10)
      .default(3)
      .meta({ description: "Most relays from a request's `relays` tag that a result is sent to." }),
    max_results: positiveInt('events').max(5_000).default(200).meta({
      description:
        'Most events (or groups, or documents) in one result; a result cut short says so and carries a `cursor` to continue from.',
    }),
    max_result_bytes: positiveInt('bytes')
      .min(1_024)
      .max(4_000_000)
      .default(60_000)
      .meta({
        description:
          "Most bytes of one result's content: results are cut before they pass it, because relays refuse large events (strfry's " +
          'default maximum is 64 KiB).',
      }),
    request_max_age_seconds: positiveInt('seconds').default(600).meta({
      description:
        'Job requests older than this are ignored (at start-up and after a reconnect the machine asks for requests this far back).',
    }),
    jobs_per_minute_per_customer: positiveInt('jobs').default(30).meta({
      description: 'Jobs one customer pubkey may have answered per minute; requests beyond it are dropped (and counted) without a reply.',
    }),
    statement_timeout_ms: positiveInt('milliseconds').default(5_000).meta({
      description: "Time limit of each job's database query (read-only transaction); a job that passes it gets an `error` feedback event.",
    }),
    announce: bool().default(true).meta({
      description: 'Publish a NIP-89 handler announcement (kind 31990) listing the job kinds at start, so clients can find the machine.',
    }),
    name: z.string().min(1).max(100).default('bigbrotr archive').meta({ description: 'Name in the NIP-89 announcement.' }),
    about: z
      .string()
      .max(2_000)
      .default(
        'Answers questions about the bigbrotr archive of the Nostr network: event counts, archived events by filter, the relays ' +
          'an event was seen on, relay uptime and NIP-11 history.',
      )
      .meta({ description: 'Description in the NIP-89 announcement.' }),
  })
  .strict();

export const identitySchema = z
  .object({
    secret_key: z
      .string()
      .regex(/^[0-9a-f]{64}$/, { error: 'expected 64 lowercase hex characters (the value is not shown: it is secret)' })
      .optional()
      .meta({
        description:
          "The service's Nostr secret key (hex), used to answer NIP-42 AUTH challenges and to sign the monitor's NIP-66 events. " +
          'Give it as a file: `BIGBROTR_IDENTITY__SECRET_KEY_FILE`. Unset: relays that require AUTH are reported as such and ' +
          'skipped.',
        [SECRET]: true,
      }),
  })
  .strict();

export const shutdownSchema = z
  .object({
    grace_ms: positiveInt('milliseconds')
      .default(10_000)
      .meta({ description: 'On SIGTERM/SIGINT, how long services may take to finish their batch before they are abandoned.' }),
  })
  .strict();

/** `name=value` pairs separated by commas (values may be percent-encoded), as in OTEL_EXPORTER_OTLP_HEADERS. */
const OTLP_HEADERS = /^\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+\s*=[^,]*(,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+\s*=[^,]*)*$/;

export const tracingSchema = z
  .object({
    enabled: bool()
      .default(false)
      .meta({
        [RESTART_ONLY]: true,
        description:
          'Export OpenTelemetry traces: one span per relay sync pass (`sync.relay`) and per API request (`http.request`). Off: ' +
          'the no-op tracer, nothing is recorded or sent.',
      }),
    exporter: z
      .enum(['otlp-http', 'console'])
      .default('otlp-http')
      .meta({
        [RESTART_ONLY]: true,
        description:
          '`otlp-http`: batches of spans sent as OTLP/HTTP (JSON) to `endpoint` (an OpenTelemetry Collector, Jaeger, Tempo); ' +
          '`console`: one JSON line per span on stderr (debugging).',
      }),
    endpoint: z
      .url({ protocol: /^https?$/, error: 'expected an http(s) URL, e.g. http://127.0.0.1:4318/v1/traces' })
      .default('http://127.0.0.1:4318/v1/traces')
      .meta({ [RESTART_ONLY]: true, description: 'OTLP/HTTP traces URL, the full path included (`/v1/traces`).' }),
    service_name: z
      .string()
      .min(1)
      .default('bigbrotr')
      .meta({ [RESTART_ONLY]: true, description: 'The `service.name` resource attribute the spans are filed under.' }),
    sample_ratio: z
      .number({ error: (issue) => `expected a number from 0 to 1, got ${JSON.stringify(issue.input)}` })
      .min(0, { error: 'expected a number from 0 to 1' })
      .max(1, { error: 'expected a number from 0 to 1' })
      .default(1)
      .meta({
        [RESTART_ONLY]: true,
        description:
          'Fraction of traces kept, a decimal from 0 to 1 (e.g. `0.1`), decided per trace ID so a trace is kept or dropped whole.',
      }),
    headers: z
      .string()
      .regex(OTLP_HEADERS, { error: 'expected name=value pairs separated by commas' })
      .optional()
      .meta({
        [RESTART_ONLY]: true,
        description:
          'HTTP headers sent with every export, `name=value` pairs separated by commas (values may be percent-encoded), e.g. ' +
          '`authorization=Bearer%20TOKEN` for a hosted collector. Give it as a file: `BIGBROTR_TRACING__HEADERS_FILE`.',
        [SECRET]: true,
      }),
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
    validator: validatorSchema.default(validatorSchema.parse({})),
    finder: finderSchema.default(finderSchema.parse({})),
    monitor: monitorSchema.default(monitorSchema.parse({})),
    maintenance: maintenanceSchema.default(maintenanceSchema.parse({})),
    api: apiSchema.default(apiSchema.parse({})),
    dvm: dvmSchema.default(dvmSchema.parse({})),
    shutdown: shutdownSchema.default(shutdownSchema.parse({})),
    identity: identitySchema.default(identitySchema.parse({})),
    tracing: tracingSchema.default(tracingSchema.parse({})),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type DatabaseConfig = Config['database'];
export type LogConfig = Config['log'];
export type HttpConfig = Config['http'];
export type RelayClientConfig = Config['relay'];
export type LimitsConfig = Config['limits'];
export type SyncConfig = Config['sync'];
export type MonitorConfig = Config['monitor'];
export type MaintenanceConfig = Config['maintenance'];
export type ApiConfig = Config['api'];
export type DvmConfig = Config['dvm'];
export type TracingConfig = Config['tracing'];
