-- event_relay.relay_id references relay (id), checked once per statement instead of once per row.
--
-- The foreign key checked every inserted provenance row with its own query (PostgreSQL runs one
-- SELECT ... FOR KEY SHARE on relay per row, through SPI): about a sixth of the database's CPU in
-- the synchronizer's bulk insert, a tenth over a whole sync pass (docs/benchmarks.md, 2026-12-03).
-- The same rules now hold through triggers, per statement:
--   - inserting or updating event_relay rows locks their relays FOR KEY SHARE, as the foreign key
--     did (a concurrent DELETE of such a relay waits for the transaction), and fails with
--     foreign_key_violation when one of them does not exist;
--   - deleting relays deletes their event_relay rows (ON DELETE CASCADE), also on TRUNCATE;
--   - a relay's id cannot change while event_relay rows refer to it (NO ACTION).
-- The functions run as their owner (SECURITY DEFINER, as the key's checks did), with a fixed search path.

ALTER TABLE event_relay DROP CONSTRAINT event_relay_relay_id_fkey;
COMMENT ON COLUMN event_relay.relay_id IS 'The relay (relay.id) the event was seen on. Enforced by triggers once per statement (migration 0012), not by a foreign key: rows must name an existing relay, and deleting a relay deletes its rows.';

CREATE FUNCTION bigbrotr_event_relay_check_relays() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  wanted bigint;
  locked bigint;
BEGIN
  SELECT count(DISTINCT relay_id) INTO wanted FROM new_rows;
  SELECT count(*) INTO locked FROM (SELECT 1 FROM relay WHERE id IN (SELECT relay_id FROM new_rows) FOR KEY SHARE) AS found;
  IF locked < wanted THEN
    RAISE EXCEPTION 'insert or update on table "event_relay" violates the reference to "relay": a relay_id is not in relay'
      USING ERRCODE = 'foreign_key_violation', TABLE = 'event_relay', COLUMN = 'relay_id';
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER event_relay_relays_exist_on_insert AFTER INSERT ON event_relay
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION bigbrotr_event_relay_check_relays();
CREATE TRIGGER event_relay_relays_exist_on_update AFTER UPDATE ON event_relay
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION bigbrotr_event_relay_check_relays();
-- Read by scripts/gen-erd.ts (docs/erd.md shows the reference as it showed the foreign key).
COMMENT ON TRIGGER event_relay_relays_exist_on_insert ON event_relay IS 'References relay (id) from (relay_id), on delete cascade. Checked once per statement, with the relays locked FOR KEY SHARE; the cascade and the NO ACTION on relay.id are triggers on relay (migration 0012).';

CREATE FUNCTION bigbrotr_relay_delete_event_relay() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    TRUNCATE event_relay;
  ELSE
    DELETE FROM event_relay WHERE relay_id IN (SELECT id FROM old_rows);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER relay_delete_cascades_to_event_relay AFTER DELETE ON relay
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION bigbrotr_relay_delete_event_relay();
CREATE TRIGGER relay_truncate_cascades_to_event_relay AFTER TRUNCATE ON relay
  FOR EACH STATEMENT EXECUTE FUNCTION bigbrotr_relay_delete_event_relay();

CREATE FUNCTION bigbrotr_relay_id_kept_while_referenced() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM relay WHERE id = OLD.id) AND EXISTS (SELECT 1 FROM event_relay WHERE relay_id = OLD.id) THEN
    RAISE EXCEPTION 'update on table "relay" violates the reference from "event_relay": relay % is still referenced', OLD.id
      USING ERRCODE = 'foreign_key_violation', TABLE = 'relay', COLUMN = 'id';
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER relay_id_kept_while_referenced AFTER UPDATE OF id ON relay
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION bigbrotr_relay_id_kept_while_referenced();

DO $$
DECLARE
  fn text;
BEGIN
  FOREACH fn IN ARRAY ARRAY['bigbrotr_event_relay_check_relays()', 'bigbrotr_relay_delete_event_relay()', 'bigbrotr_relay_id_kept_while_referenced()'] LOOP
    EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', fn, current_schema());
  END LOOP;
END $$;
