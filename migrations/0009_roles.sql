-- Least-privilege roles (docs/database.md). Three roles per deployment, named <prefix>_owner,
-- <prefix>_writer and <prefix>_reader (prefix `bigbrotr` unless chosen otherwise):
--   owner   owns the database and the schema objects and runs the migrations (DDL);
--   writer  what the services connect as: SELECT, INSERT, UPDATE, DELETE on tables, USAGE on
--           sequences, never DDL and never writes to schema_migration;
--   reader  what the API connects as: SELECT only.
-- Roles are cluster-wide and creating them needs CREATEROLE, so no migration creates any:
-- `bigbrotr roles --print` prints the statements. This migration grants to those that exist.
--
-- bigbrotr_grant_roles(prefix) grants the privileges above on everything in the current schema, and
-- default privileges so that tables and sequences created later (by later migrations, new
-- partitions) get them too. It is idempotent; run it again, as the owner, for roles created after
-- this migration ran (`bigbrotr roles --grant`). It returns the roles it granted to.
CREATE FUNCTION bigbrotr_grant_roles(prefix text DEFAULT 'bigbrotr') RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
  schema_name text := current_schema();
  owner_role text := prefix || '_owner';
  writer_role text := prefix || '_writer';
  reader_role text := prefix || '_reader';
  -- Default privileges belong to the role that creates the objects: whoever runs this, and the
  -- owner role when this runs as another role that may act for it (a superuser, a member).
  creators text[] := ARRAY[current_user::text];
  creator text;
  granted text[] := '{}';
BEGIN
  IF prefix !~ '^[a-z_][a-z0-9_]*$' OR length(prefix) > 57 THEN
    RAISE EXCEPTION 'bigbrotr_grant_roles: invalid role prefix %: expected lower-case letters, digits and _ (at most 57 characters)', prefix;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = owner_role) AND owner_role <> current_user THEN
    IF pg_has_role(owner_role, 'MEMBER') THEN
      creators := creators || owner_role;
    END IF;
    EXECUTE format('GRANT USAGE, CREATE ON SCHEMA %I TO %I', schema_name, owner_role);
    EXECUTE format('GRANT ALL ON ALL TABLES IN SCHEMA %I TO %I', schema_name, owner_role);
    EXECUTE format('GRANT ALL ON ALL SEQUENCES IN SCHEMA %I TO %I', schema_name, owner_role);
    FOREACH creator IN ARRAY creators LOOP
      IF creator <> owner_role THEN
        EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I GRANT ALL ON TABLES TO %I', creator, schema_name, owner_role);
        EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I GRANT ALL ON SEQUENCES TO %I', creator, schema_name, owner_role);
      END IF;
    END LOOP;
    granted := granted || owner_role;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = writer_role) THEN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', schema_name, writer_role);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO %I', schema_name, writer_role);
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO %I', schema_name, writer_role);
    IF to_regclass('schema_migration') IS NOT NULL THEN
      -- The services check the schema at start-up (read); only the owner records migrations.
      EXECUTE format('REVOKE INSERT, UPDATE, DELETE ON schema_migration FROM %I', writer_role);
    END IF;
    FOREACH creator IN ARRAY creators LOOP
      EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I', creator, schema_name, writer_role);
      EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I GRANT USAGE, SELECT ON SEQUENCES TO %I', creator, schema_name, writer_role);
    END LOOP;
    granted := granted || writer_role;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = reader_role) THEN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', schema_name, reader_role);
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO %I', schema_name, reader_role);
    FOREACH creator IN ARRAY creators LOOP
      EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I GRANT SELECT ON TABLES TO %I', creator, schema_name, reader_role);
    END LOOP;
    granted := granted || reader_role;
  END IF;
  RETURN granted;
END $$;
COMMENT ON FUNCTION bigbrotr_grant_roles(text) IS 'Grants owner, writer (DML) and reader (SELECT) privileges, and default privileges for future objects, to those of <prefix>_owner, <prefix>_writer and <prefix>_reader that exist. Idempotent. See docs/database.md.';

-- Run by <prefix>_owner, this grants to <prefix>_writer and <prefix>_reader; run by any other role
-- (a superuser, a single-role deployment, the embedded database), to the bigbrotr_* roles if they exist.
SELECT bigbrotr_grant_roles(CASE WHEN current_user ~ '^[a-z_][a-z0-9_]*_owner$' THEN left(current_user, -length('_owner')) ELSE 'bigbrotr' END);
