#!/usr/bin/env bash
# Stops the hot standby started by pg-replica-up.sh [PORT], removes its data directory and drops its replication slot.
set -euo pipefail
# With --keep (after the port) only stops it: the data directory and the slot stay, for a quick restart.
PORT=${1:-5433}
KEEP=0; [ "${2:-}" = --keep ] && KEEP=1
DIR=${REPLICA_DIR:-${TMPDIR:-/tmp}/pg-replica-$PORT}
ver=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
[ -d "$DIR" ] && su postgres -c "/usr/lib/postgresql/$ver/bin/pg_ctl -D '$DIR' -m fast stop" >/dev/null 2>&1 || true
if [ "$KEEP" = 1 ]; then echo "standby on $PORT stopped (data directory and slot kept: pg-replica-up.sh restarts it)"; exit 0; fi
rm -rf "$DIR"
# Drop its replication slot, or the primary keeps WAL for it forever (the walsender may take a moment to go).
for _ in $(seq 1 50); do
  [ -z "$(psql -h 127.0.0.1 -p 5432 -U postgres -Atc "select 1 from pg_replication_slots where slot_name = 'waldur_replica_$PORT'")" ] && break
  psql -h 127.0.0.1 -p 5432 -U postgres -Atc "select pg_drop_replication_slot('waldur_replica_$PORT')" >/dev/null 2>&1 || sleep 0.2
done
echo "standby on $PORT stopped"
