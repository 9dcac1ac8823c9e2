-- Data lifecycle: partitions created ahead of time by the maintenance service, relay_check
-- partitioned by month so that old check history is dropped a whole partition at a time, and
-- per-table autovacuum settings for the big tables. See docs/maintenance.md.

-- ---------------------------------------------------------------------------------------------
-- Partition management functions (called by the maintenance service)
-- ---------------------------------------------------------------------------------------------
-- Creates partition_name of parent (event or relay_check) for [from_value, to_value) of its
-- partition key unless it exists, and returns whether it did. Rows that reached the default
-- partition before their partition existed (events dated in the future, say) are moved into the new
-- partition in the same transaction: CREATE TABLE … PARTITION OF would fail on them. The new
-- partition copies the storage parameters (autovacuum settings) of the parent's default partition,
-- so tuning the default partition tunes every partition created after it.
CREATE FUNCTION bigbrotr_create_range_partition(parent text, partition_name text, from_value text, to_value text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  key_column text := CASE parent WHEN 'event' THEN 'created_at' WHEN 'relay_check' THEN 'checked_at' END;
  default_partition text;
  stray boolean := false;
  columns text;
  options text;
BEGIN
  IF key_column IS NULL THEN
    RAISE EXCEPTION 'bigbrotr_create_range_partition: % is not a partitioned table of bigbrotr', parent;
  END IF;
  IF to_regclass(quote_ident(partition_name)) IS NOT NULL THEN
    RETURN false;
  END IF;
  SELECT c.relname INTO default_partition
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
  WHERE i.inhparent = parent::regclass AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT';
  IF default_partition IS NOT NULL THEN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %I >= %L AND %I < %L)', default_partition, key_column, from_value, key_column, to_value) INTO stray;
  END IF;
  IF stray THEN
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO columns
    FROM pg_attribute WHERE attrelid = parent::regclass AND attnum > 0 AND NOT attisdropped;
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)', partition_name, parent);
    EXECUTE format('WITH moved AS (DELETE FROM %I WHERE %I >= %L AND %I < %L RETURNING %s) INSERT INTO %I (%s) SELECT %s FROM moved',
      default_partition, key_column, from_value, key_column, to_value, columns, partition_name, columns, columns);
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', parent, partition_name, from_value, to_value);
  ELSE
    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)', partition_name, parent, from_value, to_value);
  END IF;
  IF default_partition IS NOT NULL THEN
    SELECT string_agg(format('%s = %L', split_part(o, '=', 1), substr(o, strpos(o, '=') + 1)), ', ') INTO options
    FROM pg_class c CROSS JOIN unnest(c.reloptions) AS o
    WHERE c.oid = default_partition::regclass;
    IF options IS NOT NULL THEN
      EXECUTE format('ALTER TABLE %I SET (%s)', partition_name, options);
    END IF;
  END IF;
  RETURN true;
END $$;

-- The functions below run with the rights of their owner (the role that ran the migrations:
-- SECURITY DEFINER), so that the services' role, which has no DDL rights (docs/database.md), can
-- keep the partitions. Each one does one narrow thing to bigbrotr's own tables, and only for a
-- connected role that may already write (INSERT) or delete (DELETE) the rows concerned.
CREATE FUNCTION bigbrotr_require_privilege(target text, privilege text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  -- Called from the SECURITY DEFINER functions, where current_user is their owner and session_user
  -- is who connected (allowed: a role with the privilege, or one that may act as the owner).
  IF NOT (has_table_privilege(session_user, target, privilege) OR pg_has_role(session_user, current_user, 'MEMBER')) THEN
    RAISE EXCEPTION 'permission denied: % needs % on % for this', session_user, privilege, target USING ERRCODE = 'insufficient_privilege';
  END IF;
END $$;

-- The event function of 0001 keeps its signature and now goes through bigbrotr_create_range_partition.
CREATE OR REPLACE FUNCTION bigbrotr_create_event_partition(partition_name text, from_ts bigint, to_ts bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  PERFORM bigbrotr_require_privilege('event', 'INSERT');
  IF partition_name !~ '^event_[a-z0-9_]+$' THEN
    RAISE EXCEPTION 'bigbrotr_create_event_partition: invalid partition name %', partition_name;
  END IF;
  PERFORM bigbrotr_create_range_partition('event', partition_name, from_ts::text, to_ts::text);
END $$;

-- The relay_check partition of the (UTC) month containing month_start, named relay_check_yYYYYmMM,
-- unless it exists; returns whether it was created.
CREATE FUNCTION bigbrotr_create_relay_check_partition(month_start timestamptz) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  first_day timestamp := date_trunc('month', month_start AT TIME ZONE 'UTC');
BEGIN
  PERFORM bigbrotr_require_privilege('relay_check', 'INSERT');
  RETURN bigbrotr_create_range_partition(
    'relay_check',
    'relay_check_' || to_char(first_day, '"y"YYYY"m"MM'),
    to_char(first_day, 'YYYY-MM-DD HH24:MI:SS') || '+00',
    to_char(first_day + interval '1 month', 'YYYY-MM-DD HH24:MI:SS') || '+00');
END $$;

-- Whether partition_name is a partition of parent other than its default partition.
CREATE FUNCTION bigbrotr_is_range_partition(parent text, partition_name text) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (
    SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = parent::regclass AND c.relname = partition_name AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT')
$$;

-- Retention of check history: drops a (non-default) partition of relay_check; false when there is none of that name.
CREATE FUNCTION bigbrotr_drop_relay_check_partition(partition_name text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  PERFORM bigbrotr_require_privilege('relay_check', 'DELETE');
  IF NOT bigbrotr_is_range_partition('relay_check', partition_name) THEN
    RETURN false;
  END IF;
  EXECUTE format('DROP TABLE %I', partition_name);
  RETURN true;
END $$;

-- Retention of events, step 1: detaches a (non-default) partition of event and renames it
-- bigbrotr_expired_<name> (its events leave the archive at once; the rename lets a later run finish
-- after a crash). Returns the new name, or NULL when there is no such partition.
CREATE FUNCTION bigbrotr_detach_event_partition(partition_name text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  PERFORM bigbrotr_require_privilege('event', 'DELETE');
  IF NOT bigbrotr_is_range_partition('event', partition_name) THEN
    RETURN NULL;
  END IF;
  EXECUTE format('ALTER TABLE event DETACH PARTITION %I', partition_name);
  EXECUTE format('ALTER TABLE %I RENAME TO %I', partition_name, 'bigbrotr_expired_' || partition_name);
  RETURN 'bigbrotr_expired_' || partition_name;
END $$;

-- Retention of events, last step (after the event_relay rows of its events are gone): drops a
-- detached bigbrotr_expired_event_* table.
CREATE FUNCTION bigbrotr_drop_expired_event_table(table_name text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  PERFORM bigbrotr_require_privilege('event', 'DELETE');
  IF table_name !~ '^bigbrotr_expired_event_[a-z0-9_]+$' OR NOT EXISTS (
    SELECT 1 FROM pg_class WHERE oid = to_regclass(quote_ident(table_name)) AND relkind = 'r' AND NOT relispartition) THEN
    RETURN false;
  END IF;
  EXECUTE format('DROP TABLE %I', table_name);
  RETURN true;
END $$;

-- ANALYZE of a big table or one of the partitions (autovacuum never analyzes a partitioned parent).
CREATE FUNCTION bigbrotr_analyze(table_name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  parent text := CASE
    WHEN table_name IN ('event', 'event_relay', 'relay_check', 'metadata') THEN table_name
    WHEN bigbrotr_is_range_partition('event', table_name) THEN 'event'
    WHEN bigbrotr_is_range_partition('relay_check', table_name) THEN 'relay_check'
  END;
BEGIN
  IF parent IS NULL THEN
    RAISE EXCEPTION 'bigbrotr_analyze: % is not one of bigbrotr''s big tables', table_name;
  END IF;
  PERFORM bigbrotr_require_privilege(parent, 'INSERT');
  EXECUTE format('ANALYZE %I', table_name);
END $$;

-- A SECURITY DEFINER function must not resolve names through a search path its caller controls.
DO $$
DECLARE
  fn text;
BEGIN
  FOREACH fn IN ARRAY ARRAY[
    'bigbrotr_create_range_partition(text, text, text, text)', 'bigbrotr_require_privilege(text, text)',
    'bigbrotr_create_event_partition(text, bigint, bigint)', 'bigbrotr_create_relay_check_partition(timestamptz)',
    'bigbrotr_is_range_partition(text, text)', 'bigbrotr_drop_relay_check_partition(text)',
    'bigbrotr_detach_event_partition(text)', 'bigbrotr_drop_expired_event_table(text)', 'bigbrotr_analyze(text)'] LOOP
    EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', fn, current_schema());
  END LOOP;
END $$;

-- ---------------------------------------------------------------------------------------------
-- relay_check, partitioned by checked_at (one partition per month plus a default partition)
-- ---------------------------------------------------------------------------------------------
DROP VIEW relay_uptime;
DROP VIEW relay_metadata_latest;

-- The old table keeps its rows until they are copied; its constraints, indexes and identity
-- sequence are renamed first so the new table gets the same names.
ALTER TABLE relay_check RENAME TO relay_check_unpartitioned;
DO $$
DECLARE
  name text;
BEGIN
  FOR name IN SELECT conname FROM pg_constraint WHERE conrelid = 'relay_check_unpartitioned'::regclass AND conname LIKE 'relay\_check\_%' LOOP
    EXECUTE format('ALTER TABLE relay_check_unpartitioned RENAME CONSTRAINT %I TO %I', name, 'relay_check_unpartitioned_' || substr(name, length('relay_check_') + 1));
  END LOOP;
END $$;
ALTER INDEX relay_check_latest_idx RENAME TO relay_check_unpartitioned_latest_idx;
ALTER INDEX relay_check_metadata_idx RENAME TO relay_check_unpartitioned_metadata_idx;
ALTER SEQUENCE relay_check_id_seq RENAME TO relay_check_unpartitioned_id_seq;

-- The key, the foreign keys and the indexes are added after the copy below (one index build and one
-- validating join each, instead of per-row maintenance and per-row foreign key checks).
CREATE TABLE relay_check (
  id          bigint      GENERATED ALWAYS AS IDENTITY,
  relay_id    integer     NOT NULL,
  check_type  text        NOT NULL,
  checked_at  timestamptz NOT NULL DEFAULT now(),
  ok          boolean     NOT NULL,
  rtt_ms      integer,
  reason      text,
  metadata_id bytea,
  detail      jsonb,
  CONSTRAINT relay_check_type_check CHECK (check_type IN ('nip11', 'open', 'read', 'write', 'dns', 'ssl', 'geo', 'requirements'))
) PARTITION BY RANGE (checked_at);
COMMENT ON TABLE relay_check IS 'One row per check of a relay (nip11, open, read, write, dns, ssl, geo, …): the outcome, round trip, failure reason and the document it saw. Partitioned by checked_at: one partition per month (relay_check_yYYYYmMM) plus a default partition.';
COMMENT ON COLUMN relay_check.detail IS 'Small facts of this one check that change from check to check and so do not belong in the content-addressed document: DNS TTL, days to certificate expiry, the write check''s reply prefix, the evidence behind requirements.';
CREATE TABLE relay_check_default PARTITION OF relay_check DEFAULT;

-- Checks are inserted and never updated; these tables only ever grow until retention drops them.
-- Vacuum after 5% new rows (keeps the visibility map current for index-only scans and freezes in
-- small steps), analyze after 2% (the newest checks are the ones queried). New partitions copy them.
ALTER TABLE relay_check_default SET (autovacuum_vacuum_insert_scale_factor = 0.05, autovacuum_analyze_scale_factor = 0.02);

-- One partition per month of the existing history (at most ten years back; anything older stays
-- in the default partition), then the current month and the next three.
DO $$
DECLARE
  this_month timestamp := date_trunc('month', now() AT TIME ZONE 'UTC');
  oldest timestamp;
  month timestamp;
BEGIN
  SELECT date_trunc('month', min(checked_at) AT TIME ZONE 'UTC') INTO oldest FROM relay_check_unpartitioned;
  month := greatest(least(coalesce(oldest, this_month), this_month), this_month - interval '10 years');
  WHILE month <= this_month + interval '3 months' LOOP
    PERFORM bigbrotr_create_relay_check_partition(month AT TIME ZONE 'UTC');
    month := month + interval '1 month';
  END LOOP;
END $$;

INSERT INTO relay_check (id, relay_id, check_type, checked_at, ok, rtt_ms, reason, metadata_id, detail)
OVERRIDING SYSTEM VALUE
SELECT id, relay_id, check_type, checked_at, ok, rtt_ms, reason, metadata_id, detail FROM relay_check_unpartitioned;
SELECT setval(pg_get_serial_sequence('relay_check', 'id'), coalesce(max(id), 1), max(id) IS NOT NULL) FROM relay_check_unpartitioned;
DROP TABLE relay_check_unpartitioned;

-- A key of a partitioned table must contain the partition key.
ALTER TABLE relay_check ADD CONSTRAINT relay_check_pkey PRIMARY KEY (id, checked_at);
ALTER TABLE relay_check ADD CONSTRAINT relay_check_relay_id_fkey FOREIGN KEY (relay_id) REFERENCES relay (id) ON DELETE CASCADE;
ALTER TABLE relay_check ADD CONSTRAINT relay_check_metadata_id_fkey FOREIGN KEY (metadata_id) REFERENCES metadata (id);
CREATE INDEX relay_check_latest_idx ON relay_check (relay_id, check_type, checked_at DESC);
CREATE INDEX relay_check_metadata_idx ON relay_check (metadata_id) WHERE metadata_id IS NOT NULL;

-- The views of 0006, unchanged.
CREATE VIEW relay_metadata_latest AS
SELECT r.id AS relay_id, r.url, t.check_type, c.checked_at, c.ok, c.rtt_ms, c.reason, c.metadata_id, m.type AS metadata_type, m.data, c.detail
FROM relay r
CROSS JOIN (VALUES ('nip11'), ('open'), ('read'), ('write'), ('dns'), ('ssl'), ('geo'), ('requirements')) AS t(check_type)
CROSS JOIN LATERAL (
  SELECT * FROM relay_check rc
  WHERE rc.relay_id = r.id AND rc.check_type = t.check_type
  ORDER BY rc.checked_at DESC
  LIMIT 1
) c
LEFT JOIN metadata m ON m.id = c.metadata_id;
COMMENT ON VIEW relay_metadata_latest IS 'The latest check of each type for each relay, with the document it saw and its volatile detail; each row is one index probe on relay_check_latest_idx.';

CREATE VIEW relay_uptime AS
SELECT
  r.id AS relay_id,
  r.url,
  r.network,
  r.state,
  max(c.checked_at) FILTER (WHERE c.check_type = 'open') AS last_checked_at,
  (array_agg(c.ok ORDER BY c.checked_at DESC) FILTER (WHERE c.check_type = 'open'))[1] AS last_ok,
  avg(CASE WHEN c.ok THEN 1.0 ELSE 0.0 END) FILTER (WHERE c.check_type = 'open' AND c.checked_at > now() - interval '24 hours') AS availability_24h,
  avg(CASE WHEN c.ok THEN 1.0 ELSE 0.0 END) FILTER (WHERE c.check_type = 'open' AND c.checked_at > now() - interval '7 days') AS availability_7d,
  avg(CASE WHEN c.ok THEN 1.0 ELSE 0.0 END) FILTER (WHERE c.check_type = 'open') AS availability_30d,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY c.rtt_ms) FILTER (WHERE c.check_type = 'open' AND c.ok AND c.checked_at > now() - interval '7 days') AS median_rtt_open_7d_ms,
  count(*) FILTER (WHERE c.check_type = 'open') AS checks_30d,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY c.rtt_ms) FILTER (WHERE c.check_type = 'read' AND c.ok AND c.checked_at > now() - interval '7 days') AS median_rtt_read_7d_ms,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY c.rtt_ms) FILTER (WHERE c.check_type = 'write' AND c.rtt_ms IS NOT NULL AND c.checked_at > now() - interval '7 days') AS median_rtt_write_7d_ms
FROM relay r
JOIN relay_check c ON c.relay_id = r.id AND c.check_type IN ('open', 'read', 'write') AND c.checked_at > now() - interval '30 days'
GROUP BY r.id, r.url, r.network, r.state
HAVING count(*) FILTER (WHERE c.check_type = 'open') > 0;
COMMENT ON VIEW relay_uptime IS 'Availability of each relay from its ''open'' checks over the last 24 hours, 7 days and 30 days, and the median open, read and write round trips over 7 days (write: any answer, accepted or not).';

-- ---------------------------------------------------------------------------------------------
-- Autovacuum of the big tables (per table: a partitioned parent takes no storage parameters, so
-- they are set on each partition, and new partitions copy those of the default partition)
-- ---------------------------------------------------------------------------------------------
-- event partitions: insert-only. The defaults (vacuum after 20% new rows) would let a yearly
-- partition of hundreds of millions of rows go unvacuumed for months: a stale visibility map
-- (index-only scans visit the heap) and one huge anti-wraparound freeze instead of small ones.
-- Analyze after 1% keeps the statistics of the newest created_at values, the ones queried, current.
ALTER TABLE event_default SET (autovacuum_vacuum_insert_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.01);
DO $$
DECLARE
  part text;
BEGIN
  FOR part IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'event'::regclass LOOP
    EXECUTE format('ALTER TABLE %I SET (autovacuum_vacuum_insert_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.01)', part);
  END LOOP;
  FOR part IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'relay_check'::regclass LOOP
    EXECUTE format('ALTER TABLE %I SET (autovacuum_vacuum_insert_scale_factor = 0.05, autovacuum_analyze_scale_factor = 0.02)', part);
  END LOOP;
END $$;

-- event_relay: the largest table (one row per event and relay), not partitioned. Insert-mostly;
-- deletes come only from event retention. Same reasoning, and vacuum after 2% dead rows.
ALTER TABLE event_relay SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.01);
