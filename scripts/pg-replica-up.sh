#!/usr/bin/env bash
# A real PostgreSQL hot standby on loopback, streaming from the primary at 127.0.0.1:5432 (for read-replica tests).
# Usage: pg-replica-up.sh [PORT] (default 5433); a standby stopped with pg-replica-down.sh --keep is restarted. Env: REPLICA_DIR (default ${TMPDIR:-/tmp}/pg-replica-PORT).
# Needs root (it edits the primary's pg_hba.conf once to allow replication from 127.0.0.1, and runs the standby
# as the postgres user). Stop: pg-replica-down.sh [PORT]. Check: psql -h 127.0.0.1 -p PORT -U postgres
# -Atc 'select pg_is_in_recovery()' answers t. Lag: select now() - pg_last_xact_replay_timestamp().
# The standby streams through the replication slot waldur_replica_PORT on the primary (dropped by pg-replica-down.sh).
set -euo pipefail
PORT=${1:-5433}
DIR=${REPLICA_DIR:-${TMPDIR:-/tmp}/pg-replica-$PORT}
ver=$(ls /usr/lib/postgresql | sort -V | tail -n 1); bin=/usr/lib/postgresql/$ver/bin
hba=$(ls /etc/postgresql/*/main/pg_hba.conf | sort -V | tail -n 1)
if ! grep -qE '^host\s+replication\s+all\s+127\.0\.0\.1/32\s+trust' "$hba"; then
  sed -i '1i host replication all 127.0.0.1/32 trust' "$hba"
  psql -h 127.0.0.1 -p 5432 -U postgres -Atc 'select pg_reload_conf()' >/dev/null
fi
if [ -f "$DIR/postmaster.pid" ] && su postgres -c "$bin/pg_ctl -D '$DIR' status" >/dev/null 2>&1; then
  echo "standby already running on 127.0.0.1:$PORT ($DIR)"; exit 0
fi
SLOT=waldur_replica_$PORT
# Stopped with pg-replica-down.sh --keep: its slot kept the WAL it needs, so it only has to start.
if [ -f "$DIR/standby.signal" ] && [ -n "$(psql -h 127.0.0.1 -p 5432 -U postgres -Atc "select 1 from pg_replication_slots where slot_name = '$SLOT'")" ]; then
  rm -f "$DIR/postmaster.pid"
  if su postgres -c "$bin/pg_ctl -D '$DIR' -l '$DIR/standby.log' -w start" >/dev/null &&
    [ "$(psql -h 127.0.0.1 -p "$PORT" -U postgres -Atc 'select pg_is_in_recovery()')" = t ]; then
    echo "hot standby on 127.0.0.1:$PORT streaming from 127.0.0.1:5432 ($DIR, restarted)"; exit 0
  fi
  su postgres -c "$bin/pg_ctl -D '$DIR' -m immediate stop" >/dev/null 2>&1 || true
fi
rm -rf "$DIR"; mkdir -p "$DIR"; chown postgres:postgres "$DIR"; chmod 700 "$DIR"
# A physical replication slot makes the primary keep the WAL the standby has not received yet: without
# it a busy primary may recycle a segment between the end of the backup and the standby's first
# request ("requested WAL segment ... has already been removed"). pg-replica-down.sh drops it.
psql -h 127.0.0.1 -p 5432 -U postgres -Atc "select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = '$SLOT' and not active" >/dev/null
su postgres -c "$bin/pg_basebackup -h 127.0.0.1 -p 5432 -U postgres -D '$DIR' -R -X stream -c fast -C -S $SLOT" >/dev/null
# Debian keeps a cluster's configuration outside its data directory: give the standby its own.
printf "port = %s\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '/tmp'\nhot_standby = on\n" "$PORT" >"$DIR/postgresql.conf"
printf "local all all trust\nhost all all 127.0.0.1/32 trust\n" >"$DIR/pg_hba.conf"
chown postgres:postgres "$DIR/postgresql.conf" "$DIR/pg_hba.conf"
su postgres -c "$bin/pg_ctl -D '$DIR' -l '$DIR/standby.log' -w start" >/dev/null
[ "$(psql -h 127.0.0.1 -p "$PORT" -U postgres -Atc 'select pg_is_in_recovery()')" = t ] || { echo "standby did not come up: $DIR/standby.log"; exit 1; }
echo "hot standby on 127.0.0.1:$PORT streaming from 127.0.0.1:5432 ($DIR)"
