#!/usr/bin/env bash
# Copy of ../shared/tools/slurm-up.sh (CI runs on a clean clone). Changes: MariaDB
# settings are applied with SET GLOBAL instead of a restart, and a missing
# /etc/mysql/mariadb.conf.d is no longer fatal.
# slurm-up.sh - install and start a REAL single-node Slurm 22.05 cluster with
# accounting (slurmdbd + MariaDB) on Debian 12, without systemd and without cgroups.
#
# Idempotent: safe to run again; it installs only missing packages, rewrites the
# config files, restarts a Slurm daemon only when its config changed, and starts
# only the daemons that are not running. Exit 0 = cluster is up, node is idle.
#
# Tunables (environment):
#   SLURM_CLUSTER     cluster name                         (default testcluster)
#   SLURM_CPUS        CPUs the node advertises             (default 8; may exceed nproc)
#   SLURM_MEM_MB      RealMemory the node advertises (MB)  (default 8192)
#   SLURM_FAKE_GPUS   fake gres/gpu on the node (/dev/null links) (default 2; 0 = none)
#   SLURM_ENFORCE     AccountingStorageEnforce             (default associations,limits,qos)
#   SLURM_DB_PASS     MariaDB password of user 'slurm'     (default slurmdbpass)
#   SLURM_TEST_USERS  Linux users to create for job submission, space separated (default none)
#   SLURM_RESTD       1 = also start slurmrestd (rest_auth/jwt on 127.0.0.1:6820) (default 0)
#   SLURM_WITH_RESTD_PKGS 0 = do not install slurmrestd/jwt packages (default 1)
#   SLURM_QUICKACK    1 = turn off delayed ACKs on loopback (sacctmgr ~15 ms instead of ~400 ms) (default 1)
set -euo pipefail

CLUSTER=${SLURM_CLUSTER:-testcluster}
CPUS=${SLURM_CPUS:-8}
MEM_MB=${SLURM_MEM_MB:-8192}
GPUS=${SLURM_FAKE_GPUS:-2}
ENFORCE=${SLURM_ENFORCE:-associations,limits,qos}
DB_PASS=${SLURM_DB_PASS:-slurmdbpass}
TEST_USERS=${SLURM_TEST_USERS:-}
RESTD=${SLURM_RESTD:-0}
NODE=$(hostname -s)

START=$(date +%s%N)
log() { echo "[setup-slurm $(( ($(date +%s%N) - START) / 1000000 ))ms] $*"; }
die() { echo "[setup-slurm] ERROR: $*" >&2; for f in /var/log/slurm/slurmdbd.log /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log; do [ -f "$f" ] && { echo "--- tail $f" >&2; tail -n 15 "$f" >&2; }; done; exit 1; }
# wait_for <seconds> <description> <command...>
wait_for() {
  local secs=$1 what=$2; shift 2
  local end=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || die "timeout (${secs}s) waiting for $what"
    sleep 0.2
  done
}
# pid_alive <pidfile>: the process exists and is not a zombie (PID 1 of some sandboxes
# reaps orphans late, and kill -0 succeeds on a zombie) and its name matches the pid file
pid_alive() {
  local pid st comm; pid=$(cat "$1" 2>/dev/null) || return 1; [ -n "$pid" ] || return 1
  st=$(ps -o stat= -p "$pid" 2>/dev/null) || return 1; [[ "$st" != Z* ]] || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null); [[ "$(basename "$1" .pid)" == "$comm"* ]]
}

[ "$(id -u)" -eq 0 ] || die "must run as root"

# ---------------------------------------------------------------- packages
PKGS="munge mariadb-server slurmctld slurmd slurmdbd slurm-client"
[ "${SLURM_WITH_RESTD_PKGS:-1}" = 1 ] && PKGS="$PKGS slurmrestd slurm-wlm-jwt-plugin"
command -v ip >/dev/null || PKGS="$PKGS iproute2"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  log "installing:$missing"
  export DEBIAN_FRONTEND=noninteractive
  # Keep the packages' maintainer scripts from starting daemons (we start them below).
  own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; own_policy=1
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
  [ "$own_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  log "packages installed"
fi

# ---------------------------------------------------------------- loopback latency
# Slurm's RPCs (sacctmgr <-> slurmdbd, slurmctld <-> slurmdbd) write a length header and
# the body separately; Nagle + the 40 ms delayed ACK then cost ~45 ms per round trip,
# i.e. ~0.4 s per sacctmgr call. quickack on the loopback routes removes that.
if [ "${SLURM_QUICKACK:-1}" = 1 ] && ! ip route show table local | grep -q '^local 127.0.0.0/8 .*quickack 1'; then
  ip route change local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1 table local quickack 1 \
    && ip route change local 127.0.0.1 dev lo proto kernel scope host src 127.0.0.1 table local quickack 1 \
    || log "WARNING: could not set quickack on loopback (sacctmgr calls will take ~0.4 s)"
fi

# ---------------------------------------------------------------- users, dirs
for u in $TEST_USERS; do id "$u" >/dev/null 2>&1 || useradd -m -s /bin/bash "$u"; done
install -d -o munge -g munge -m 0755 /run/munge
install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge /etc/munge
install -d -o slurm -g slurm -m 0755 /var/log/slurm /var/lib/slurm /var/lib/slurm/slurmctld /var/lib/slurm/slurmd /etc/slurm
install -d -o mysql -g mysql -m 0755 /run/mysqld
if [ ! -s /etc/munge/munge.key ]; then
  log "creating munge key"
  mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null || dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
fi
chown munge:munge /etc/munge/munge.key; chmod 0400 /etc/munge/munge.key

# ---------------------------------------------------------------- config files
# write_if_changed <path> <owner> <mode>  (content on stdin); returns 0 if changed
write_if_changed() {
  local dst=$1 owner=$2 mode=$3 tmp
  tmp=$(mktemp)
  cat > "$tmp"
  if [ -f "$dst" ] && cmp -s "$tmp" "$dst"; then rm -f "$tmp"; chown "$owner" "$dst"; chmod "$mode" "$dst"; return 1; fi
  if ! install -o "${owner%%:*}" -g "${owner##*:}" -m "$mode" "$tmp" "$dst"; then rm -f "$tmp"; return 1; fi
  rm -f "$tmp"; return 0
}

DBD_CHANGED=0; CTL_CHANGED=0; MDB_CHANGED=0
# The drop-in only where Debian's layout includes it (some images ship their own
# my.cnf without mariadb.conf.d); the settings are applied at runtime below anyway,
# so a running MariaDB (perhaps serving others) is never restarted just for them.
[ -d /etc/mysql/mariadb.conf.d ] && write_if_changed /etc/mysql/mariadb.conf.d/99-slurm.cnf root:root 0644 <<'EOF' && MDB_CHANGED=1 || true
# Values slurmdbd checks at startup (it logs an error, but works, without them).
[mysqld]
innodb_buffer_pool_size=1024M
innodb_lock_wait_timeout=900
# With the default REPEATABLE-READ, concurrent sacctmgr writes deadlock in InnoDB:
# writes are silently lost (sacctmgr still exits 0) and slurmdbd 22.05 dies with
# "fatal: unable to resolve deadlock". READ-COMMITTED avoids it.
transaction-isolation=READ-COMMITTED
EOF

# auth/jwt as an alternative auth type (for slurmrestd / scontrol token), if the plugin is installed
JWT_LINES=""
if [ -e /usr/lib/x86_64-linux-gnu/slurm-wlm/auth_jwt.so ]; then
  JWT_LINES=$'AuthAltTypes=auth/jwt\nAuthAltParameters=jwt_key=/etc/slurm/jwt_hs256.key'
  if [ ! -s /etc/slurm/jwt_hs256.key ]; then
    dd if=/dev/urandom of=/etc/slurm/jwt_hs256.key bs=32 count=1 status=none
    DBD_CHANGED=1; CTL_CHANGED=1
  fi
  chown slurm:slurm /etc/slurm/jwt_hs256.key; chmod 0600 /etc/slurm/jwt_hs256.key
fi

write_if_changed /etc/slurm/slurmdbd.conf slurm:slurm 0600 <<EOF && DBD_CHANGED=1 || true
# generated by slurm-up.sh
AuthType=auth/munge
$JWT_LINES
DbdHost=localhost
DbdPort=6819
SlurmUser=slurm
DebugLevel=info
LogFile=/var/log/slurm/slurmdbd.log
PidFile=/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageLoc=slurm_acct_db
StorageUser=slurm
StoragePass=$DB_PASS
EOF

GRES_NODE=""; GRES_GLOBAL=""
if [ "$GPUS" -gt 0 ]; then
  GRES_NODE=" Gres=gpu:$GPUS"
  GRES_GLOBAL=$'GresTypes=gpu\nAccountingStorageTRES=gres/gpu'
fi
write_if_changed /etc/slurm/slurm.conf root:root 0644 <<EOF && CTL_CHANGED=1 || true
# generated by slurm-up.sh - single node test cluster, no cgroups, no systemd
ClusterName=$CLUSTER
SlurmctldHost=$NODE(127.0.0.1)
AuthType=auth/munge
$JWT_LINES
CredType=cred/munge
SlurmUser=slurm
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
MailProg=/bin/true
# no cgroups: process tracking by /proc, no task binding
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
MpiDefault=none
# the node may advertise more CPUs/memory than the machine has (test cluster)
SlurmdParameters=config_overrides
ReturnToService=2
KillWait=5
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,bf_interval=2
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=256
# multifactor keeps per-association usage (needed for GrpTRESMins); no decay, no reset
PriorityType=priority/multifactor
PriorityDecayHalfLife=0
PriorityUsageResetPeriod=NONE
PriorityCalcPeriod=1
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=6819
AccountingStorageEnforce=$ENFORCE
$GRES_GLOBAL
JobCompType=jobcomp/none
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB$GRES_NODE State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES DefaultTime=00:10:00 MaxTime=INFINITE State=UP
EOF

if [ "$GPUS" -gt 0 ]; then
  # Fake GPUs: gres/gpu needs File= entries (a count-only gpu line registers 0 GPUs
  # and the node goes INVAL). Symlinks to /dev/null are enough (stat sees a char device).
  install -d -m 0755 /var/lib/slurm/fakegpu
  for i in $(seq 0 $((GPUS - 1))); do ln -sfn /dev/null /var/lib/slurm/fakegpu/nvidia$i; done
  write_if_changed /etc/slurm/gres.conf root:root 0644 <<EOF && CTL_CHANGED=1 || true
# fake GPUs so that gres/gpu TRES limits and usage can be tested
AutoDetect=off
NodeName=$NODE Name=gpu File=/var/lib/slurm/fakegpu/nvidia[0-$((GPUS - 1))]
EOF
else
  if [ -f /etc/slurm/gres.conf ]; then rm -f /etc/slurm/gres.conf; CTL_CHANGED=1; fi
fi

# ---------------------------------------------------------------- munge
if ! pid_alive /run/munge/munged.pid; then
  log "starting munged"
  runuser -u munge -- /usr/sbin/munged --force   # --force: reuse a stale socket left by a killed munged
fi
wait_for 15 munged sh -c 'munge -n | unmunge'

# ---------------------------------------------------------------- mariadb
mdb() { if [ -d /run/systemd/system ]; then systemctl "$1" mariadb; else /etc/init.d/mariadb "$1" >/dev/null; fi; }
# A config change is applied at runtime (SET GLOBAL below), not by a restart.
[ "$MDB_CHANGED" = 1 ] && log "mariadb drop-in written (applied at runtime)"
if ! mysqladmin ping >/dev/null 2>&1; then
  log "starting mariadb"
  mdb start
  wait_for 60 mariadb mysqladmin ping
fi
mysql -u root <<EOF
SET GLOBAL tx_isolation='READ-COMMITTED';
SET GLOBAL innodb_lock_wait_timeout=900;
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DB_PASS';
ALTER USER 'slurm'@'localhost' IDENTIFIED BY '$DB_PASS';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
EOF

# ---------------------------------------------------------------- slurmdbd
# stop_pidfiles <pidfile>...: SIGTERM all at once (by PID), wait up to 10 s, then SIGKILL
stop_pidfiles() {
  local pf pid st pids=()
  for pf in "$@"; do pid_alive "$pf" && { pid=$(cat "$pf"); kill "$pid" 2>/dev/null; pids+=("$pid"); }; done
  for _ in $(seq 1 100); do
    local alive=0; for pid in "${pids[@]}"; do st=$(ps -o stat= -p "$pid" 2>/dev/null) && [[ "$st" != Z* ]] && alive=1; done
    [ "$alive" = 0 ] && return 0; sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
}
if [ "$DBD_CHANGED" = 1 ] && pid_alive /run/slurmdbd.pid; then log "restarting slurmdbd (config changed)"; stop_pidfiles /run/slurmdbd.pid; fi
if ! pid_alive /run/slurmdbd.pid; then
  log "starting slurmdbd"
  /usr/sbin/slurmdbd
fi
wait_for 60 slurmdbd sacctmgr -n -P list cluster
if ! sacctmgr -n -P list cluster format=cluster | grep -qx "$CLUSTER"; then
  log "registering cluster $CLUSTER"
  sacctmgr -i add cluster "$CLUSTER" >/dev/null
fi

# ---------------------------------------------------------------- slurmctld + slurmd
if [ "$CTL_CHANGED" = 1 ] && { pid_alive /run/slurmd.pid || pid_alive /run/slurmctld.pid; }; then
  log "restarting slurmctld/slurmd (config changed)"; stop_pidfiles /run/slurmd.pid /run/slurmctld.pid
fi
if ! pid_alive /run/slurmctld.pid; then
  log "starting slurmctld"
  /usr/sbin/slurmctld
fi
wait_for 60 slurmctld sh -c 'scontrol ping | grep -q UP'
if ! pid_alive /run/slurmd.pid; then
  log "starting slurmd"
  /usr/sbin/slurmd
fi
node_ready() { sinfo -h -n "$NODE" -o %T | grep -qE '^(idle|mixed|allocated)$'; }
for i in $(seq 1 150); do node_ready && break; sleep 0.2
  # e.g. left DOWN/DRAINED by an earlier run: resume it once after ~2 s
  [ "$i" = 10 ] && scontrol update nodename="$NODE" state=resume >/dev/null 2>&1 || true
done
node_ready || die "node $NODE not idle: $(sinfo -h -n "$NODE" -o '%T %E')"

# ---------------------------------------------------------------- slurmrestd (optional)
if [ "$RESTD" = 1 ]; then
  id slurmrest >/dev/null 2>&1 || useradd -r -M -s /usr/sbin/nologin slurmrest
  if ! pid_alive /run/slurmrestd.pid; then
    log "starting slurmrestd on 127.0.0.1:6820 (JWT)"
    SLURM_JWT=daemon nohup setpriv --reuid=slurmrest --regid=slurmrest --clear-groups \
        /usr/sbin/slurmrestd -a rest_auth/jwt 127.0.0.1:6820 </dev/null >/var/log/slurm/slurmrestd.log 2>&1 &
    echo $! > /run/slurmrestd.pid
    wait_for 15 slurmrestd bash -c 'echo > /dev/tcp/127.0.0.1/6820'
  fi
fi

log "cluster '$CLUSTER' up: $(sinfo -h -o '%P %a %D %T %N %c cpus %m MB %G')"
