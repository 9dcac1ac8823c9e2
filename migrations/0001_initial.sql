-- bigbrotr schema, version 1. Runs on PostgreSQL 15+ and PGlite (PostgreSQL 18 in WASM).

-- ---------------------------------------------------------------------------------------------
-- Relays
-- ---------------------------------------------------------------------------------------------
CREATE TABLE relay (
  id               integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  url              text        NOT NULL UNIQUE,
  network          text        NOT NULL CHECK (network IN ('clearnet', 'tor', 'i2p', 'loki')),
  state            text        NOT NULL DEFAULT 'candidate' CHECK (state IN ('candidate', 'active', 'retired')),
  discovered_from  text        NOT NULL,
  discovered_at    timestamptz NOT NULL DEFAULT now(),
  mention_count    bigint      NOT NULL DEFAULT 1,
  state_changed_at timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CHECK (length(url) <= 2048)
);
COMMENT ON TABLE relay IS 'Every relay URL bigbrotr knows (normalised), with its network, lifecycle state and where it was first found. The integer id keys the big tables.';
COMMENT ON COLUMN relay.discovered_from IS 'First source that named the relay: seed, config, event, nip66, nip11, list, api.';
COMMENT ON COLUMN relay.mention_count IS 'How many times discovery sources named the relay (seeds count once per load).';
CREATE INDEX relay_state_network_idx ON relay (state, network);

-- ---------------------------------------------------------------------------------------------
-- Events, stored once, exactly as signed
-- ---------------------------------------------------------------------------------------------
CREATE TABLE event (
  id         bytea   NOT NULL,
  pubkey     bytea   NOT NULL,
  created_at bigint  NOT NULL,
  kind       integer NOT NULL,
  tags       jsonb   NOT NULL,
  content    text    NOT NULL,
  sig        bytea   NOT NULL,
  tagvalues  text[]  NOT NULL DEFAULT '{}',
  raw_json   bytea,
  PRIMARY KEY (id, created_at),
  CHECK (length(id) = 32),
  CHECK (length(pubkey) = 32),
  CHECK (length(sig) = 64),
  CHECK (kind BETWEEN 0 AND 65535)
) PARTITION BY RANGE (created_at);
COMMENT ON TABLE event IS 'Each verified event once. Partitioned by created_at (unix seconds): one partition per year plus a default partition for anything outside them.';
COMMENT ON COLUMN event.tags IS 'The tags array as signed (order preserved). When raw_json is set this is a searchable copy with U+0000 and lone surrogates replaced by U+FFFD.';
COMMENT ON COLUMN event.content IS 'The content as signed, or (when raw_json is set) a searchable copy as for tags.';
COMMENT ON COLUMN event.tagvalues IS 'First value of every single-letter tag as ''<letter>:<value>'', deduplicated: the index behind #x filters.';
COMMENT ON COLUMN event.raw_json IS 'Only for events whose tags or content PostgreSQL text cannot hold (U+0000, lone surrogates): UTF-8 of JSON.stringify([tags, content]), the lossless original.';

-- Creates the partition of event for [from_ts, to_ts) unless it exists. Maintenance calls it ahead of time.
CREATE FUNCTION bigbrotr_create_event_partition(partition_name text, from_ts bigint, to_ts bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF to_regclass(partition_name) IS NULL THEN
    EXECUTE format('CREATE TABLE %I PARTITION OF event FOR VALUES FROM (%s) TO (%s)', partition_name, from_ts, to_ts);
  END IF;
END $$;

DO $$
DECLARE
  y integer;
BEGIN
  FOR y IN 2020..2030 LOOP
    PERFORM bigbrotr_create_event_partition(
      'event_y' || y,
      extract(epoch FROM make_timestamptz(y, 1, 1, 0, 0, 0, 'UTC'))::bigint,
      extract(epoch FROM make_timestamptz(y + 1, 1, 1, 0, 0, 0, 'UTC'))::bigint);
  END LOOP;
END $$;
CREATE TABLE event_default PARTITION OF event DEFAULT;

CREATE INDEX event_pubkey_created_idx ON event (pubkey, created_at DESC);
CREATE INDEX event_kind_created_idx ON event (kind, created_at DESC);
CREATE INDEX event_created_idx ON event (created_at DESC);
CREATE INDEX event_tagvalues_idx ON event USING gin (tagvalues);

-- Which relays served each event, and when bigbrotr first saw it there.
CREATE TABLE event_relay (
  event_id      bytea       NOT NULL,
  relay_id      integer     NOT NULL REFERENCES relay (id) ON DELETE CASCADE,
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (event_id, relay_id)
);
COMMENT ON TABLE event_relay IS 'Provenance: one row per (event, relay) pair. No foreign key to event: a key into a partitioned table must carry created_at, which would cost 8 bytes per row here; events are only ever written together with their provenance rows, in one statement.';
CREATE INDEX event_relay_relay_seen_idx ON event_relay (relay_id, first_seen_at);

-- ---------------------------------------------------------------------------------------------
-- Relay metadata: content-addressed documents and the checks that saw them
-- ---------------------------------------------------------------------------------------------
CREATE TABLE metadata (
  id            bytea       PRIMARY KEY,
  type          text        NOT NULL,
  data          jsonb       NOT NULL,
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  CHECK (length(id) = 32)
);
COMMENT ON TABLE metadata IS 'Content-addressed documents (NIP-11, DNS, TLS, geo results): id = sha256 of type and canonical JSON, so an identical document is stored once however many checks see it.';

CREATE TABLE relay_check (
  id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  relay_id    integer     NOT NULL REFERENCES relay (id) ON DELETE CASCADE,
  check_type  text        NOT NULL,
  checked_at  timestamptz NOT NULL DEFAULT now(),
  ok          boolean     NOT NULL,
  rtt_ms      integer,
  reason      text,
  metadata_id bytea REFERENCES metadata (id)
);
COMMENT ON TABLE relay_check IS 'One row per check of a relay (nip11, open, read, write, dns, ssl, geo, …): the outcome, round trip, failure reason and the document it saw.';
CREATE INDEX relay_check_latest_idx ON relay_check (relay_id, check_type, checked_at DESC);
CREATE INDEX relay_check_metadata_idx ON relay_check (metadata_id) WHERE metadata_id IS NOT NULL;

-- ---------------------------------------------------------------------------------------------
-- Operational state: health, cursors, leases
-- ---------------------------------------------------------------------------------------------
CREATE TABLE relay_health (
  relay_id             integer     PRIMARY KEY REFERENCES relay (id) ON DELETE CASCADE,
  consecutive_failures integer     NOT NULL DEFAULT 0,
  last_success_at      timestamptz,
  last_failure_at      timestamptz,
  last_error           text,
  benched_until        timestamptz,
  updated_at           timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE relay_health IS 'Circuit-breaker state per relay: a relay that keeps failing is benched until benched_until, with the reason.';

CREATE TABLE sync_cursor (
  relay_id        integer     NOT NULL REFERENCES relay (id) ON DELETE CASCADE,
  scope           text        NOT NULL DEFAULT 'all',
  position_at     bigint,
  position_id     bytea,
  completed_until bigint,
  last_full_pass_at timestamptz,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (relay_id, scope)
);
COMMENT ON TABLE sync_cursor IS 'Per-relay sync position: (position_at, position_id) is the last event committed in the current pass; completed_until the time up to which the relay is fully archived. Advanced only after the events before it are committed.';

CREATE TABLE service_lease (
  service     text        NOT NULL,
  resource    text        NOT NULL,
  owner       text        NOT NULL,
  acquired_at timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  PRIMARY KEY (service, resource)
);
COMMENT ON TABLE service_lease IS 'Work sharing between processes: a worker holds a resource (e.g. a relay) for a service until expires_at; a crashed worker''s lease simply expires.';
CREATE INDEX service_lease_expiry_idx ON service_lease (service, expires_at);

-- ---------------------------------------------------------------------------------------------
-- Views
-- ---------------------------------------------------------------------------------------------
CREATE VIEW relay_metadata_latest AS
SELECT r.id AS relay_id, r.url, t.check_type, c.checked_at, c.ok, c.rtt_ms, c.reason, c.metadata_id, m.type AS metadata_type, m.data
FROM relay r
CROSS JOIN LATERAL (SELECT DISTINCT check_type FROM relay_check WHERE relay_id = r.id) t
CROSS JOIN LATERAL (
  SELECT * FROM relay_check rc
  WHERE rc.relay_id = r.id AND rc.check_type = t.check_type
  ORDER BY rc.checked_at DESC
  LIMIT 1
) c
LEFT JOIN metadata m ON m.id = c.metadata_id;
COMMENT ON VIEW relay_metadata_latest IS 'The latest check of each type for each relay, with the document it saw; each row is one index probe on relay_check_latest_idx.';

CREATE VIEW unique_events_stats AS
SELECT
  (SELECT count(*) FROM event) AS unique_events,
  (SELECT count(*) FROM event_relay) AS event_relay_pairs,
  (SELECT count(DISTINCT pubkey) FROM event) AS distinct_authors,
  (SELECT count(DISTINCT kind) FROM event) AS distinct_kinds,
  (SELECT min(created_at) FROM event) AS oldest_created_at,
  (SELECT max(created_at) FROM event) AS newest_created_at;
COMMENT ON VIEW unique_events_stats IS 'Archive-wide counts: unique events vs event-relay pairs (the duplication across relays), authors, kinds, time span.';

CREATE VIEW relay_uptime AS
SELECT
  r.id AS relay_id,
  r.url,
  r.network,
  r.state,
  max(c.checked_at) AS last_checked_at,
  (array_agg(c.ok ORDER BY c.checked_at DESC))[1] AS last_ok,
  avg(CASE WHEN c.ok THEN 1.0 ELSE 0.0 END) FILTER (WHERE c.checked_at > now() - interval '24 hours') AS availability_24h,
  avg(CASE WHEN c.ok THEN 1.0 ELSE 0.0 END) FILTER (WHERE c.checked_at > now() - interval '7 days') AS availability_7d,
  avg(CASE WHEN c.ok THEN 1.0 ELSE 0.0 END) AS availability_30d,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY c.rtt_ms) FILTER (WHERE c.ok AND c.checked_at > now() - interval '7 days') AS median_rtt_open_7d_ms,
  count(*) AS checks_30d
FROM relay r
JOIN relay_check c ON c.relay_id = r.id AND c.check_type = 'open' AND c.checked_at > now() - interval '30 days'
GROUP BY r.id, r.url, r.network, r.state;
COMMENT ON VIEW relay_uptime IS 'Availability of each relay from its ''open'' checks over the last 24 hours, 7 days and 30 days, and the median open round trip over 7 days.';
