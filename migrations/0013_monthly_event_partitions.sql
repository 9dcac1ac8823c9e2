-- Monthly event partitions (maintenance.event_partition_interval = month): an event partition of
-- another range (the yearly ones of migration 0001, still empty) gives way to monthly ones. See
-- docs/maintenance.md.

-- Drops a (non-default) partition of event that holds at most max_rows rows, first putting those
-- rows back into event (where no partition covers them any more: event_default), and returns true;
-- returns false, changing nothing, when it holds more or is not a partition of event. The caller
-- creates the replacing partitions in the same transaction, which move the rows out of the default
-- partition again. The exclusive lock on event is taken first, as inserts take theirs (parent, then
-- partition), so no row arrives between the count and the drop and no deadlock is possible.
CREATE FUNCTION bigbrotr_dissolve_event_partition(partition_name text, max_rows integer) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  held bigint;
  columns text;
BEGIN
  PERFORM bigbrotr_require_privilege('event', 'INSERT');
  PERFORM bigbrotr_require_privilege('event', 'DELETE');
  IF NOT bigbrotr_is_range_partition('event', partition_name) THEN
    RETURN false;
  END IF;
  LOCK TABLE event IN ACCESS EXCLUSIVE MODE;
  EXECUTE format('SELECT count(*) FROM (SELECT 1 FROM %I LIMIT %s) s', partition_name, max_rows + 1) INTO held;
  IF held > max_rows THEN
    RETURN false;
  END IF;
  EXECUTE format('ALTER TABLE event DETACH PARTITION %I', partition_name);
  IF held > 0 THEN
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO columns
    FROM pg_attribute WHERE attrelid = 'event'::regclass AND attnum > 0 AND NOT attisdropped;
    EXECUTE format('INSERT INTO event (%s) SELECT %s FROM %I', columns, columns, partition_name);
  END IF;
  EXECUTE format('DROP TABLE %I', partition_name);
  RETURN true;
END $$;

DO $$
BEGIN
  EXECUTE format('ALTER FUNCTION bigbrotr_dissolve_event_partition(text, integer) SET search_path = %I, pg_temp', current_schema());
END $$;

COMMENT ON TABLE event IS 'Each verified event once. Partitioned by created_at (unix seconds): one partition per UTC year (event_yYYYY) or month (event_yYYYYmMM; maintenance.event_partition_interval), never overlapping, plus a default partition for anything outside them.';
