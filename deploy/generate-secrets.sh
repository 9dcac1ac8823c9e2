#!/usr/bin/env bash
# Creates the secret files docker-compose.yml mounts (deploy/secrets/README.md says what each is):
# random passwords, the database URLs and the PgBouncer user list that go with them, a Nostr key and
# the Grafana admin password.
#
#   bash deploy/generate-secrets.sh [DIR]      DIR defaults to deploy/secrets
#
# Existing files are kept (so running it again never changes a password a database already uses);
# delete a file to have it made again. The directory is made 0700 (only you can list or open it);
# the files 0644, because the containers read them as their own non-root users through bind mounts.
set -euo pipefail

dir="${1:-$(cd "$(dirname "$0")" && pwd)/secrets}"
mkdir -p "$dir"
chmod 700 "$dir"

random_hex() { # $1 bytes of randomness, as hex (URL-safe: no escaping in the database URLs)
  od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'
}

made=()
write() { # name, value: written once, never overwritten
  local file="$dir/$1"
  if [ -e "$file" ]; then return; fi
  (umask 022 && printf '%s\n' "$2" > "$file.tmp.$$")
  chmod 644 "$file.tmp.$$"
  mv "$file.tmp.$$" "$file"
  made+=("$1")
}
read_value() { tr -d '\r\n' < "$dir/$1"; }

write postgres_password "$(random_hex 24)"
for role in owner writer reader exporter; do
  write "db_${role}_password" "$(random_hex 24)"
done
for role in owner writer reader; do
  write "database_url_${role}" "postgres://bigbrotr_${role}:$(read_value "db_${role}_password")@pgbouncer:5432/bigbrotr"
done
write pgbouncer_userlist "$(for role in owner writer reader; do
  printf '"bigbrotr_%s" "%s"\n' "$role" "$(read_value "db_${role}_password")"
done)"
write nostr_secret_key "$(random_hex 32)"
write grafana_admin_password "$(random_hex 16)"

if [ ${#made[@]} -eq 0 ]; then
  echo "generate-secrets: every secret file already exists in $dir; nothing changed"
else
  echo "generate-secrets: created ${made[*]} in $dir"
fi
