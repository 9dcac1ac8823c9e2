-- Archive statistics in constant time (decision 15 in docs/decisions.md).
--
-- count(*) over event and event_relay, GROUP BY kind and events per day were full scans: 0.24 s to
-- 1.6 s at 3,000,000 events, growing linearly. Now every statement that changes event, event_relay,
-- relay_check or metadata through the table itself appends what it changed to archive_counter_delta
-- (statement-level triggers with transition tables: a few rows per statement, never a row lock on a
-- shared counter, so concurrent inserters neither wait for each other nor deadlock), and
-- bigbrotr_fold_archive_counters() folds those rows into archive_counter (one process at a time).
-- A count is the sum of its archive_counter row and its delta rows: exact in every snapshot.
--
-- What keeps the counts exact:
--   - INSERT, UPDATE and DELETE through event, event_relay, relay_check or metadata (the bulk insert,
--     the cascade from relay, orphan metadata removal, retention's provenance deletion): triggers;
--   - TRUNCATE of one of them: its counts restart from zero;
--   - retention: a relay_check partition's rows are subtracted when it is dropped; an expired event
--     partition's when bigbrotr_uncount_expired_event_table is called after the detach (one scan of
--     the detached table, without a lock on event), at the latest when it is dropped;
--   - moving rows between partitions (bigbrotr_create_range_partition works on the partitions, not
--     through event) changes nothing; a function that moves rows through event sets
--     bigbrotr.counters_moving_rows = on for its duration, which the triggers honour;
--   - DML on a partition named directly bypasses the counts: bigbrotr_recount_archive() recomputes
--     them from scratch (one scan; it blocks writers meanwhile).

CREATE TABLE archive_counter (
  metric text   NOT NULL,
  key    bigint NOT NULL DEFAULT 0,
  value  bigint NOT NULL,
  PRIMARY KEY (metric, key),
  CONSTRAINT archive_counter_metric_check CHECK (metric IN ('events', 'events_by_kind', 'events_by_created_day', 'events_by_archived_day', 'event_relay', 'relay_check', 'metadata'))
);
COMMENT ON TABLE archive_counter IS 'Archive-wide counts folded from archive_counter_delta: events (key 0), events by kind (key: kind), by UTC day of created_at and of archived_at (key: days since 1970-01-01), rows of event_relay, relay_check and metadata (key 0). A count is its row here plus its delta rows.';

CREATE TABLE archive_counter_delta (
  metric text   NOT NULL,
  key    bigint NOT NULL DEFAULT 0,
  value  bigint NOT NULL
);
COMMENT ON TABLE archive_counter_delta IS 'Changes to archive_counter not folded yet: appended by statement-level triggers on event, event_relay, relay_check and metadata (no row is ever updated, so inserters never wait for each other); bigbrotr_fold_archive_counters() moves them into archive_counter.';
-- Appended to and emptied all the time: vacuumed after 1,000 dead rows whatever its size.
ALTER TABLE archive_counter_delta SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 1000);

CREATE TABLE archive_counter_uncounted (
  table_name  text        PRIMARY KEY,
  events      bigint      NOT NULL,
  uncounted_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE archive_counter_uncounted IS 'Detached expired event partitions (bigbrotr_expired_event_*) whose events were already subtracted from archive_counter: a crash between the detach and the drop neither misses nor repeats the subtraction.';

-- Statements that changed event since the last fold was tried (every 256th folds in passing).
CREATE SEQUENCE archive_counter_statement_seq;

-- Folds archive_counter_delta into archive_counter and returns the delta rows folded, or NULL when
-- another transaction is folding (it holds a transaction-scoped advisory lock). Counter rows that
-- reach zero are removed.
CREATE FUNCTION bigbrotr_fold_archive_counters() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  folded bigint;
BEGIN
  -- 0x6262636f756e74 = 'bbcount' in ASCII.
  IF NOT pg_try_advisory_xact_lock(27691892016344692) THEN
    RETURN NULL;
  END IF;
  WITH moved AS (
    DELETE FROM archive_counter_delta RETURNING metric, key, value
  ), summed AS (
    SELECT metric, key, sum(value)::bigint AS value, count(*) AS n FROM moved GROUP BY metric, key
  ), added AS (
    INSERT INTO archive_counter (metric, key, value)
    SELECT metric, key, value FROM summed ORDER BY metric, key
    ON CONFLICT (metric, key) DO UPDATE SET value = archive_counter.value + excluded.value
    RETURNING 1
  )
  SELECT coalesce(sum(n), 0)::bigint INTO folded FROM summed;
  DELETE FROM archive_counter WHERE value = 0;
  RETURN folded;
END $$;
COMMENT ON FUNCTION bigbrotr_fold_archive_counters() IS 'Moves archive_counter_delta into archive_counter; NULL when another transaction is folding. Called every 256th statement on event and by the maintenance service.';

-- Appends the change of one statement on event: events, by kind, by day of created_at and of archived_at.
CREATE FUNCTION bigbrotr_count_event_changes() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  IF current_setting('bigbrotr.counters_moving_rows', true) = 'on' THEN
    RETURN NULL;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO archive_counter_delta (metric, key, value)
    SELECT CASE WHEN GROUPING(kind) = 0 THEN 'events_by_kind' WHEN GROUPING(created_day) = 0 THEN 'events_by_created_day'
                WHEN GROUPING(archived_day) = 0 THEN 'events_by_archived_day' ELSE 'events' END,
           coalesce(kind, created_day, archived_day, 0), count(*)
    FROM (SELECT kind, floor(created_at / 86400.0)::bigint AS created_day, floor(extract(epoch FROM archived_at) / 86400)::bigint AS archived_day FROM new_rows) AS r
    GROUP BY GROUPING SETS ((kind), (created_day), (archived_day), ())
    HAVING count(*) > 0;
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    INSERT INTO archive_counter_delta (metric, key, value)
    SELECT CASE WHEN GROUPING(kind) = 0 THEN 'events_by_kind' WHEN GROUPING(created_day) = 0 THEN 'events_by_created_day'
                WHEN GROUPING(archived_day) = 0 THEN 'events_by_archived_day' ELSE 'events' END,
           coalesce(kind, created_day, archived_day, 0), -count(*)
    FROM (SELECT kind, floor(created_at / 86400.0)::bigint AS created_day, floor(extract(epoch FROM archived_at) / 86400)::bigint AS archived_day FROM old_rows) AS r
    GROUP BY GROUPING SETS ((kind), (created_day), (archived_day), ())
    HAVING count(*) > 0;
  END IF;
  -- Folding in passing keeps the delta rows few without any service running. Only in READ
  -- COMMITTED: a snapshot older than another fold's commit could not delete the rows it folded.
  IF nextval('archive_counter_statement_seq') % 256 = 0 AND current_setting('transaction_isolation') = 'read committed' THEN
    PERFORM bigbrotr_fold_archive_counters();
  END IF;
  RETURN NULL;
END $$;

-- Appends the change in rows of one statement on event_relay, relay_check or metadata (metric: the table's name).
CREATE FUNCTION bigbrotr_count_row_changes() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  IF current_setting('bigbrotr.counters_moving_rows', true) = 'on' THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO archive_counter_delta (metric, key, value) SELECT TG_TABLE_NAME, 0, count(*) FROM new_rows HAVING count(*) > 0;
  ELSE
    INSERT INTO archive_counter_delta (metric, key, value) SELECT TG_TABLE_NAME, 0, -count(*) FROM old_rows HAVING count(*) > 0;
  END IF;
  RETURN NULL;
END $$;

-- TRUNCATE: the table's counts restart from zero (no other transaction can hold rows of it meanwhile).
CREATE FUNCTION bigbrotr_reset_counts() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  metrics text[] := CASE TG_TABLE_NAME WHEN 'event' THEN ARRAY['events', 'events_by_kind', 'events_by_created_day', 'events_by_archived_day'] ELSE ARRAY[TG_TABLE_NAME::text] END;
BEGIN
  DELETE FROM archive_counter_delta WHERE metric = ANY(metrics);
  DELETE FROM archive_counter WHERE metric = ANY(metrics);
  RETURN NULL;
END $$;

-- A trigger with transition tables fires on one event only.
CREATE TRIGGER event_count_inserts AFTER INSERT ON event REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION bigbrotr_count_event_changes();
CREATE TRIGGER event_count_updates AFTER UPDATE ON event REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION bigbrotr_count_event_changes();
CREATE TRIGGER event_count_deletes AFTER DELETE ON event REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION bigbrotr_count_event_changes();
CREATE TRIGGER event_count_truncate AFTER TRUNCATE ON event FOR EACH STATEMENT EXECUTE FUNCTION bigbrotr_reset_counts();
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['event_relay', 'relay_check', 'metadata'] LOOP
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION bigbrotr_count_row_changes()', t || '_count_inserts', t);
    EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION bigbrotr_count_row_changes()', t || '_count_deletes', t);
    EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION bigbrotr_reset_counts()', t || '_count_truncate', t);
  END LOOP;
END $$;

-- Recomputes every count from the tables (one scan of each; writers wait meanwhile). The migration
-- below runs it once; afterwards only to repair counts after DML on a partition named directly.
CREATE FUNCTION bigbrotr_recount_archive() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  PERFORM bigbrotr_require_privilege('event', 'INSERT');
  LOCK TABLE event, event_relay, relay_check, metadata IN SHARE MODE;
  PERFORM pg_advisory_xact_lock(27691892016344692);
  DELETE FROM archive_counter_delta;
  DELETE FROM archive_counter;
  INSERT INTO archive_counter (metric, key, value)
  SELECT CASE WHEN GROUPING(kind) = 0 THEN 'events_by_kind' WHEN GROUPING(created_day) = 0 THEN 'events_by_created_day'
              WHEN GROUPING(archived_day) = 0 THEN 'events_by_archived_day' ELSE 'events' END,
         coalesce(kind, created_day, archived_day, 0), count(*)
  FROM (SELECT kind, floor(created_at / 86400.0)::bigint AS created_day, floor(extract(epoch FROM archived_at) / 86400)::bigint AS archived_day FROM event) AS r
  GROUP BY GROUPING SETS ((kind), (created_day), (archived_day), ())
  HAVING count(*) > 0;
  INSERT INTO archive_counter (metric, key, value)
  SELECT metric, 0, n FROM (VALUES
    ('event_relay', (SELECT count(*) FROM event_relay)),
    ('relay_check', (SELECT count(*) FROM relay_check)),
    ('metadata', (SELECT count(*) FROM metadata))) AS c(metric, n)
  WHERE n > 0;
END $$;
COMMENT ON FUNCTION bigbrotr_recount_archive() IS 'Recomputes archive_counter from the tables (one scan each, writers wait). For repair after DML on a partition named directly; the triggers keep the counts otherwise.';

-- Retention of events, between the detach and the drop: subtracts the events of a detached expired
-- partition (one scan of it; event itself is not locked). Returns the events subtracted, or NULL when
-- already done or when table_name is no such table.
CREATE FUNCTION bigbrotr_uncount_expired_event_table(table_name text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  subtracted bigint;
BEGIN
  PERFORM bigbrotr_require_privilege('event', 'DELETE');
  IF table_name !~ '^bigbrotr_expired_event_[a-z0-9_]+$' OR NOT EXISTS (
    SELECT 1 FROM pg_class WHERE oid = to_regclass(quote_ident(table_name)) AND relkind = 'r' AND NOT relispartition) THEN
    RETURN NULL;
  END IF;
  IF EXISTS (SELECT 1 FROM archive_counter_uncounted u WHERE u.table_name = bigbrotr_uncount_expired_event_table.table_name) THEN
    RETURN NULL;
  END IF;
  EXECUTE format(
    $q$WITH added AS (
      INSERT INTO archive_counter_delta (metric, key, value)
      SELECT CASE WHEN GROUPING(kind) = 0 THEN 'events_by_kind' WHEN GROUPING(created_day) = 0 THEN 'events_by_created_day'
                  WHEN GROUPING(archived_day) = 0 THEN 'events_by_archived_day' ELSE 'events' END,
             coalesce(kind, created_day, archived_day, 0), -count(*)
      FROM (SELECT kind, floor(created_at / 86400.0)::bigint AS created_day, floor(extract(epoch FROM archived_at) / 86400)::bigint AS archived_day FROM %I) AS r
      GROUP BY GROUPING SETS ((kind), (created_day), (archived_day), ())
      HAVING count(*) > 0
      RETURNING metric, value)
    SELECT coalesce(-sum(value) FILTER (WHERE metric = 'events'), 0)::bigint FROM added$q$, table_name) INTO subtracted;
  -- The primary key makes a concurrent second call fail instead of subtracting twice.
  INSERT INTO archive_counter_uncounted (table_name, events) VALUES (table_name, subtracted);
  RETURN subtracted;
END $$;

-- Retention of events, last step (0008's function): the events are subtracted first if that was not done.
CREATE OR REPLACE FUNCTION bigbrotr_drop_expired_event_table(table_name text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  PERFORM bigbrotr_require_privilege('event', 'DELETE');
  IF table_name !~ '^bigbrotr_expired_event_[a-z0-9_]+$' OR NOT EXISTS (
    SELECT 1 FROM pg_class WHERE oid = to_regclass(quote_ident(table_name)) AND relkind = 'r' AND NOT relispartition) THEN
    RETURN false;
  END IF;
  PERFORM bigbrotr_uncount_expired_event_table(table_name);
  EXECUTE format('DROP TABLE %I', table_name);
  DELETE FROM archive_counter_uncounted u WHERE u.table_name = bigbrotr_drop_expired_event_table.table_name;
  RETURN true;
END $$;

-- Retention of check history (0008's function): the partition's rows are subtracted as it is
-- dropped. The SHARE lock keeps rows from arriving between the count and the drop.
CREATE OR REPLACE FUNCTION bigbrotr_drop_relay_check_partition(partition_name text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  held bigint;
BEGIN
  PERFORM bigbrotr_require_privilege('relay_check', 'DELETE');
  IF NOT bigbrotr_is_range_partition('relay_check', partition_name) THEN
    RETURN false;
  END IF;
  EXECUTE format('LOCK TABLE %I IN SHARE MODE', partition_name);
  EXECUTE format('SELECT count(*) FROM %I', partition_name) INTO held;
  INSERT INTO archive_counter_delta (metric, key, value) SELECT 'relay_check', 0, -held WHERE held > 0;
  EXECUTE format('DROP TABLE %I', partition_name);
  RETURN true;
END $$;

-- Detached expired partitions present now are not in the counts computed below.
INSERT INTO archive_counter_uncounted (table_name, events)
SELECT c.relname, 0 FROM pg_class c
WHERE c.relkind = 'r' AND NOT c.relispartition AND c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = 'event'::regclass)
  AND c.relname ~ '^bigbrotr_expired_event_[a-z0-9_]+$';

-- 0013's bigbrotr_dissolve_event_partition puts a partition's rows back through event: a move, not
-- new events. It becomes bigbrotr_dissolve_event_partition_moving_rows, called by a wrapper of the
-- same name and signature that turns the counting off for the call (a SET attached to the function
-- would need a superuser for a custom setting on PostgreSQL 15).
DO $$
BEGIN
  IF to_regprocedure('bigbrotr_dissolve_event_partition(text, integer)') IS NOT NULL THEN
    ALTER FUNCTION bigbrotr_dissolve_event_partition(text, integer) RENAME TO bigbrotr_dissolve_event_partition_moving_rows;
    CREATE FUNCTION bigbrotr_dissolve_event_partition(partition_name text, max_rows integer) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER AS $body$
    DECLARE
      previous text := coalesce(current_setting('bigbrotr.counters_moving_rows', true), '');
      dissolved boolean;
    BEGIN
      PERFORM set_config('bigbrotr.counters_moving_rows', 'on', true);
      dissolved := bigbrotr_dissolve_event_partition_moving_rows(partition_name, max_rows);
      PERFORM set_config('bigbrotr.counters_moving_rows', previous, true);
      RETURN dissolved;
    END $body$;
    EXECUTE format('ALTER FUNCTION bigbrotr_dissolve_event_partition(text, integer) SET search_path = %I, pg_temp', current_schema());
  END IF;
END $$;

DO $$
DECLARE
  fn text;
BEGIN
  FOREACH fn IN ARRAY ARRAY[
    'bigbrotr_fold_archive_counters()', 'bigbrotr_count_event_changes()', 'bigbrotr_count_row_changes()', 'bigbrotr_reset_counts()',
    'bigbrotr_recount_archive()', 'bigbrotr_uncount_expired_event_table(text)', 'bigbrotr_drop_expired_event_table(text)',
    'bigbrotr_drop_relay_check_partition(text)'] LOOP
    EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', fn, current_schema());
  END LOOP;
END $$;

-- The counts of what is archived now: one scan of each table, at migration time.
SELECT bigbrotr_recount_archive();

-- unique_events_stats (0001): the counts and the time span from the counters and the created_at
-- index; distinct authors remain a scan.
CREATE OR REPLACE VIEW unique_events_stats AS
SELECT
  (SELECT coalesce(sum(value), 0)::bigint FROM (SELECT value FROM archive_counter WHERE metric = 'events' UNION ALL SELECT value FROM archive_counter_delta WHERE metric = 'events') AS c) AS unique_events,
  (SELECT coalesce(sum(value), 0)::bigint FROM (SELECT value FROM archive_counter WHERE metric = 'event_relay' UNION ALL SELECT value FROM archive_counter_delta WHERE metric = 'event_relay') AS c) AS event_relay_pairs,
  (SELECT count(DISTINCT pubkey) FROM event) AS distinct_authors,
  (SELECT count(*) FROM (SELECT key FROM (SELECT key, value FROM archive_counter WHERE metric = 'events_by_kind' UNION ALL SELECT key, value FROM archive_counter_delta WHERE metric = 'events_by_kind') AS k GROUP BY key HAVING sum(value) > 0) AS kinds) AS distinct_kinds,
  (SELECT min(created_at) FROM event) AS oldest_created_at,
  (SELECT max(created_at) FROM event) AS newest_created_at;
COMMENT ON VIEW unique_events_stats IS 'Archive-wide counts: unique events vs event-relay pairs (the duplication across relays), authors, kinds, time span. All but distinct_authors (a scan of event) read archive_counter and the created_at index.';
