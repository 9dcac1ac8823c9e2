#!/bin/bash
# Runs once, when the postgres container starts on an empty data volume (docker-entrypoint-initdb.d),
# as the superuser. Creates the least-privilege roles and the database, with the passwords of the
# db_*_password secrets (deploy/secrets/README.md):
#   bigbrotr_owner     owns the database and the schema; migrations and maintenance (DDL)
#   bigbrotr_writer    the services: DML only (migration 0009 grants it), statement_timeout 60 s
#   bigbrotr_reader    the API: SELECT only, statement_timeout 10 s
#   bigbrotr_exporter  postgres-exporter: pg_monitor (statistics), no access to the tables
# The same statements as `bigbrotr roles --print`; the grants on the tables come with `bigbrotr
# migrate` (run by the migrate container as bigbrotr_owner).
set -euo pipefail

read_secret() {
  local file="/run/secrets/$1"
  if [ ! -s "$file" ]; then
    echo "10-bigbrotr-roles.sh: $file is missing or empty (see deploy/secrets/README.md)" >&2
    exit 1
  fi
  tr -d '\r\n' < "$file"
}

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  --set=owner_password="$(read_secret db_owner_password)" \
  --set=writer_password="$(read_secret db_writer_password)" \
  --set=reader_password="$(read_secret db_reader_password)" \
  --set=exporter_password="$(read_secret db_exporter_password)" <<'SQL'
CREATE ROLE bigbrotr_owner LOGIN PASSWORD :'owner_password';
CREATE ROLE bigbrotr_writer LOGIN PASSWORD :'writer_password';
CREATE ROLE bigbrotr_reader LOGIN PASSWORD :'reader_password';
CREATE ROLE bigbrotr_exporter LOGIN PASSWORD :'exporter_password';
ALTER ROLE bigbrotr_writer SET statement_timeout = '60s';
ALTER ROLE bigbrotr_reader SET statement_timeout = '10s';
ALTER ROLE bigbrotr_exporter SET statement_timeout = '10s';
GRANT pg_monitor TO bigbrotr_exporter;
CREATE DATABASE bigbrotr OWNER bigbrotr_owner ENCODING 'UTF8';
REVOKE CONNECT, TEMPORARY ON DATABASE bigbrotr FROM PUBLIC;
GRANT CONNECT ON DATABASE bigbrotr TO bigbrotr_owner, bigbrotr_writer, bigbrotr_reader, bigbrotr_exporter;
-- The bulk insert stages each batch in a temporary table (COPY, decision 16).
GRANT TEMPORARY ON DATABASE bigbrotr TO bigbrotr_writer;
SQL
echo "10-bigbrotr-roles.sh: roles bigbrotr_owner, bigbrotr_writer, bigbrotr_reader, bigbrotr_exporter and database bigbrotr created"
