# shellcheck shell=bash
# test-deps.sh - set up what the tests use, where this machine allows it.
# Sourced by `make test` (it exports the variables the tests read):
#
#   PostgreSQL   127.0.0.1:5432, trust on loopback  -> WALDUR_TEST_DATABASE_URL
#   PG standby   a hot standby of it on 127.0.0.1:5433 (scripts/pg-replica-up.sh) -> WALDUR_TEST_REPLICA_URL
#   Slurm        a single-node cluster with accounting (scripts/slurm-up.sh) -> SLURM_TEST_USERS
#   bubblewrap   + slirp4netns: the Script offerings' sandbox and its network
#   moto_server  the AWS API the AWS tests run against (pip install 'moto[server]')
#   SimpleSAMLphp a SAML2 IdP on 127.0.0.1:8480 (scripts/simplesamlphp.sh) -> WALDUR_TEST_SAML2_IDP_URL, _IDP_DIR
#
# As root on Debian it installs and starts what is missing (the steps CI
# needs on a fresh machine); elsewhere it says what is missing and how to get
# it, and the tests that need it are skipped (make test lists them at the
# end). With CI=true a piece that cannot be had stops here: CI must run
# every test. WALDUR_TEST_DATABASE_URL set to empty keeps the tests on
# SQLite (make test-sqlite).

_deps_missing=()
_deps_note() { printf '  %-12s %s\n' "$1" "$2"; }
_deps_miss() { _deps_missing+=("$1"); _deps_note "$1" "MISSING: $2"; }
_deps_can_install() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }
_deps_apt() { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }

echo "=== test dependencies (scripts/test-deps.sh)"

# PostgreSQL.
_pg_up() { command -v pg_isready >/dev/null 2>&1 && pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
if [ -n "${WALDUR_TEST_DATABASE_URL+set}" ] && [ -z "$WALDUR_TEST_DATABASE_URL" ]; then
  _deps_note postgresql "not used (WALDUR_TEST_DATABASE_URL is empty: SQLite only)"
elif [ -n "${WALDUR_TEST_DATABASE_URL:-}" ]; then
  _deps_note postgresql "given: WALDUR_TEST_DATABASE_URL"
else
  if ! _pg_up && _deps_can_install; then
    if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
      echo "  installing PostgreSQL"
      _deps_apt postgresql || true
    fi
    if ls /etc/postgresql/*/main >/dev/null 2>&1; then
      _pg_ver=$(ls /etc/postgresql | sort -V | tail -n 1)
      _pg_hba=/etc/postgresql/$_pg_ver/main/pg_hba.conf
      # The tests connect as postgres over TCP without a password: trust on loopback only.
      grep -qE '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$_pg_hba" || sed -i '1i host all all 127.0.0.1/32 trust' "$_pg_hba"
      pg_ctlcluster --skip-systemctl-redirect "$_pg_ver" main start 2>/dev/null ||
        pg_ctlcluster --skip-systemctl-redirect "$_pg_ver" main reload 2>/dev/null || true
      for _ in $(seq 1 60); do _pg_up && break; sleep 1; done
    fi
  fi
  # The tests open many connections at once (two packages in parallel, the
  # production-topology test's Temporal server and processes): Debian's
  # default of 100 is too few. Raised once, with a restart, before any test.
  if _pg_up && _deps_can_install && [ "$(psql -h 127.0.0.1 -U postgres -d postgres -Atc 'show max_connections' 2>/dev/null || echo 0)" -lt 400 ]; then
    psql -h 127.0.0.1 -U postgres -d postgres -qc 'ALTER SYSTEM SET max_connections = 500' &&
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main restart 2>/dev/null || true
    for _ in $(seq 1 60); do _pg_up && break; sleep 1; done
  fi
  if _pg_up && psql -h 127.0.0.1 -U postgres -d postgres -Atc 'select 1' >/dev/null 2>&1; then
    export WALDUR_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
    _deps_note postgresql "ready: $(psql -h 127.0.0.1 -U postgres -d postgres -Atc 'show server_version'), max_connections $(psql -h 127.0.0.1 -U postgres -d postgres -Atc 'show max_connections')"
  else
    _deps_miss postgresql "no PostgreSQL on 127.0.0.1:5432 with trust for user postgres (as root on Debian this script sets it up); the tests run on SQLite only"
  fi
fi

# PostgreSQL hot standby: the read replica tests (internal/database, api)
# read from a real streaming replica of the server above.
if [ -n "${WALDUR_TEST_REPLICA_URL:-}" ]; then
  _deps_note pg-replica "given: WALDUR_TEST_REPLICA_URL"
elif [ "${WALDUR_TEST_DATABASE_URL:-}" = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable" ] && _deps_can_install; then
  if bash scripts/pg-replica-up.sh 5433 >/tmp/waldur-pg-replica.log 2>&1; then
    export WALDUR_TEST_REPLICA_URL="postgres://postgres@127.0.0.1:5433/postgres?sslmode=disable"
    _deps_note pg-replica "ready: $(tail -n 1 /tmp/waldur-pg-replica.log)"
  else
    _deps_miss pg-replica "scripts/pg-replica-up.sh failed (log: /tmp/waldur-pg-replica.log); the read replica tests are skipped"
  fi
elif [ -n "${WALDUR_TEST_DATABASE_URL:-}" ]; then
  _deps_miss pg-replica "no WALDUR_TEST_REPLICA_URL (as root with the local PostgreSQL, scripts/pg-replica-up.sh starts a hot standby on 127.0.0.1:5433); the read replica tests are skipped"
fi

# Slurm.
export SLURM_TEST_USERS="${SLURM_TEST_USERS:-slurmit1 slurmit2}"
if _deps_can_install; then
  if bash scripts/slurm-up.sh >/tmp/waldur-slurm-up.log 2>&1; then
    _deps_note slurm "ready: $(tail -n 1 /tmp/waldur-slurm-up.log | sed 's/^\[[^]]*\] //')"
  else
    _deps_miss slurm "scripts/slurm-up.sh failed (log: /tmp/waldur-slurm-up.log)"
  fi
elif command -v sacctmgr >/dev/null 2>&1; then
  _deps_note slurm "found sacctmgr (not root: the cluster is used as it is)"
else
  _deps_miss slurm "sacctmgr not installed: run scripts/slurm-up.sh as root on Debian 12"
fi

# bubblewrap + slirp4netns.
if { ! command -v bwrap >/dev/null 2>&1 || ! command -v slirp4netns >/dev/null 2>&1; } && _deps_can_install; then
  _deps_apt bubblewrap slirp4netns || true
fi
if command -v bwrap >/dev/null 2>&1 && command -v slirp4netns >/dev/null 2>&1; then
  # slirp4netns runs as the sandbox's user and opens the TUN device: 0666
  # is Debian's (udev's) default, which these VMs lack.
  [ "$(id -u)" = 0 ] && [ -e /dev/net/tun ] && chmod 0666 /dev/net/tun
  _deps_note bubblewrap "ready: $(bwrap --version), $(slirp4netns --version | head -n 1)"
else
  _deps_miss bubblewrap "bwrap or slirp4netns not installed (apt-get install bubblewrap slirp4netns)"
fi

# moto_server: pip installs it under pyenv on these machines.
for _d in "${PYENV_ROOT:-$HOME/.pyenv}/shims" /root/.pyenv/shims; do
  if [ -d "$_d" ] && [[ ":$PATH:" != *":$_d:"* ]]; then export PATH="$PATH:$_d"; fi
done
if command -v moto_server >/dev/null 2>&1; then
  _deps_note moto "ready: $(command -v moto_server)"
else
  _deps_miss moto "moto_server not on PATH (pip install 'moto[server]'); the AWS tests are skipped"
fi

# SimpleSAMLphp: the real IdP of api/saml2's end-to-end login test.
_saml_dir="${WALDUR_TEST_SAML2_IDP_DIR:-${TMPDIR:-/tmp}/waldur-saml-idp}"
if { [ -d /usr/share/simplesamlphp ] && command -v php >/dev/null 2>&1; } || _deps_can_install; then
  if IDP_DIR="$_saml_dir" IDP_PORT=8480 bash scripts/simplesamlphp.sh >/tmp/waldur-saml-idp.log 2>&1; then
    export WALDUR_TEST_SAML2_IDP_URL="http://127.0.0.1:8480" WALDUR_TEST_SAML2_IDP_DIR="$_saml_dir"
    _deps_note saml-idp "ready: SimpleSAMLphp on $WALDUR_TEST_SAML2_IDP_URL (state in $_saml_dir)"
  else
    _deps_miss saml-idp "scripts/simplesamlphp.sh failed (log: /tmp/waldur-saml-idp.log)"
  fi
else
  _deps_miss saml-idp "SimpleSAMLphp not installed (as root: apt-get install simplesamlphp php-cli php-xml php-mbstring, then scripts/simplesamlphp.sh); the SAML2 login test is skipped"
fi

if [ ${#_deps_missing[@]} -gt 0 ] && [ "${CI:-}" = true ]; then
  echo "CI=true and missing: ${_deps_missing[*]} — CI runs every test, so this is an error"
  return 1 2>/dev/null || exit 1
fi
true
