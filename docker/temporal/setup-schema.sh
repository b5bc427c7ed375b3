#!/bin/sh
# One-shot job of the `temporal-schema` service (temporalio/admin-tools image).
#
# Installs, then upgrades, Temporal's persistence and visibility schemas in PostgreSQL,
# the same steps as Temporal's own compose setup scripts. Safe to repeat: setup-schema
# leaves an already-versioned database alone and update-schema applies only versions that
# are missing, so this also migrates the schema after TEMPORAL_VERSION is raised.
#
# Environment (set in docker/compose.yaml):
#   DB                  SQL plugin, postgres12 (PostgreSQL 12 and later)
#   POSTGRES_SEEDS      database host
#   DB_PORT             database port
#   POSTGRES_USER       Temporal's database role
#   SQL_PASSWORD        its password (read by temporal-sql-tool directly)
#   DBNAME              persistence database   (default temporal)
#   VISIBILITY_DBNAME   visibility database    (default temporal_visibility)
#   CREATE_DATABASES    "true" to also run `create` first (role needs CREATEDB); the
#                       bundled postgres-init script already creates both databases.
set -eu

PLUGIN="${DB:-postgres12}"
HOST="${POSTGRES_SEEDS:-postgresql}"
PORT="${DB_PORT:-5432}"
ROLE="${POSTGRES_USER:?POSTGRES_USER must be set}"
: "${SQL_PASSWORD:?SQL_PASSWORD must be set}"
MAIN_DB="${DBNAME:-temporal}"
VISIBILITY_DB="${VISIBILITY_DBNAME:-temporal_visibility}"
SCHEMA_ROOT="${TEMPORAL_SCHEMA_ROOT:-/etc/temporal/schema/postgresql/v12}"

sql_tool() {
  temporal-sql-tool --plugin "$PLUGIN" --ep "$HOST" -p "$PORT" -u "$ROLE" "$@"
}

setup_database() {
  database="$1"
  versioned_dir="$2"
  echo "temporal-schema: ${database} on ${HOST}:${PORT} (${versioned_dir})"
  if [ "${CREATE_DATABASES:-false}" = "true" ]; then
    sql_tool --db "$database" create
  fi
  sql_tool --db "$database" setup-schema -v 0.0
  sql_tool --db "$database" update-schema -d "$versioned_dir"
}

setup_database "$MAIN_DB" "${SCHEMA_ROOT}/temporal/versioned"
setup_database "$VISIBILITY_DB" "${SCHEMA_ROOT}/visibility/versioned"

echo "temporal-schema: done"
