#!/bin/bash
# First-start initialisation of the shared PostgreSQL server in docker/compose.yaml.
#
# The official postgres image runs /docker-entrypoint-initdb.d/* only when the data
# directory is empty, i.e. once per volume. This script creates:
#
#   role $WALDUR_DB_USER    owning database $WALDUR_DB_NAME
#       (tables are created by the `migrate` service: `waldur migrate up`)
#   role $TEMPORAL_DB_USER  owning databases $TEMPORAL_DB_NAME and $TEMPORAL_VISIBILITY_DB_NAME
#       (tables are created by the `temporal-schema` service: temporal-sql-tool)
#   extension btree_gin in $TEMPORAL_VISIBILITY_DB_NAME (Temporal's visibility schema needs it)
#
# It does not run again, so changing a password in .env later needs
#   ALTER ROLE <name> PASSWORD '<new>';
# run by hand (docker compose -f docker/compose.yaml exec postgresql psql -U postgres).
#
# Works whether the entrypoint executes it (executable bit set) or sources it.
set -e

psql -v ON_ERROR_STOP=1 --no-psqlrc \
  --username "${POSTGRES_USER:-postgres}" \
  --dbname "${POSTGRES_DB:-${POSTGRES_USER:-postgres}}" \
  --set=waldur_db="${WALDUR_DB_NAME:-waldur}" \
  --set=waldur_user="${WALDUR_DB_USER:-waldur}" \
  --set=waldur_password="${WALDUR_DB_PASSWORD:?WALDUR_DB_PASSWORD must be set}" \
  --set=temporal_db="${TEMPORAL_DB_NAME:-temporal}" \
  --set=temporal_visibility_db="${TEMPORAL_VISIBILITY_DB_NAME:-temporal_visibility}" \
  --set=temporal_user="${TEMPORAL_DB_USER:-temporal}" \
  --set=temporal_password="${TEMPORAL_DB_PASSWORD:?TEMPORAL_DB_PASSWORD must be set}" \
  <<'EOSQL'
CREATE ROLE :"waldur_user" LOGIN PASSWORD :'waldur_password';
CREATE DATABASE :"waldur_db" OWNER :"waldur_user";

CREATE ROLE :"temporal_user" LOGIN PASSWORD :'temporal_password';
CREATE DATABASE :"temporal_db" OWNER :"temporal_user";
CREATE DATABASE :"temporal_visibility_db" OWNER :"temporal_user";

\connect :temporal_visibility_db
CREATE EXTENSION IF NOT EXISTS btree_gin;
EOSQL
