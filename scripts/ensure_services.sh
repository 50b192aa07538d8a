#!/usr/bin/env bash
# Makes sure the services the tests use are running on this machine
# (`ensure_services.sh [chromium] [nginx] [postgres] [redis]`, default all):
#   Debian's chromium (the browser tests drive it through Playwright's executable_path),
#   nginx (in front of replicas in cluster mode),
#   PostgreSQL on 127.0.0.1:5432 with a role `helpdesk` (password, CREATEDB) that
#   reaches the database `test`, and Redis on 127.0.0.1:6379.
# The server's authentication (pg_hba.conf) is left as it is: the role has a
# password, kept in PGPASSFILE (default var/secrets/pgpass, mode 0600), which
# libpq reads for postgresql://helpdesk@... URLs (the tests, `make cluster`).
# Starts whichever is stopped, installs it with apt-get if missing. Idempotent;
# prints nothing on success; exits non-zero with a message saying what failed.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PG_ROLE=helpdesk
PGPASSFILE=${PGPASSFILE:-$ROOT/var/secrets/pgpass}

fail() { echo "ensure_services: $*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo -n "$@"
  else fail "need root (or password-less sudo) to run: $*"
  fi
}

apt_updated=0
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if [ "$apt_updated" = 0 ]; then
    as_root apt-get update -qq >/dev/null 2>&1 || fail "apt-get update failed"
    apt_updated=1
  fi
  as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 || fail "apt-get install $* failed"
}

wait_for() {  # seconds, command...
  local seconds=$1; shift
  for _ in $(seq "$seconds"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  return 1
}

# --- PostgreSQL ---------------------------------------------------------------------------------

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 -t 2; }
pg_test_db_reachable() {
  [ -s "$PGPASSFILE" ] && PGPASSFILE="$PGPASSFILE" psql -h 127.0.0.1 -p 5432 -U "$PG_ROLE" -d test -w -Atqc 'SELECT 1' >/dev/null 2>&1
}
as_postgres() { as_root runuser -u postgres -- "$@"; }

# The role's password: the one in PGPASSFILE, or a new random one written there.
pg_password() {
  if [ -s "$PGPASSFILE" ]; then
    awk -F: -v role="$PG_ROLE" '$4 == role { print $5; exit }' "$PGPASSFILE"
  else
    head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'
  fi
}

ensure_postgres() {
  if ! command -v pg_ctlcluster >/dev/null || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
    apt_install postgresql
  fi
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  [ -n "$version" ] || fail "PostgreSQL is installed but has no cluster in /etc/postgresql"
  if ! pg_up; then
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1 \
      || fail "could not start PostgreSQL $version (see /var/log/postgresql/postgresql-$version-main.log)"
    wait_for 30 pg_up || fail "PostgreSQL $version did not accept connections on 127.0.0.1:5432 within 30 s"
  fi
  pg_test_db_reachable && return 0

  # The role (created, or its password set to the one kept here) and the `test` database,
  # as the postgres OS user over the local socket (Debian's peer authentication).
  local password
  password=$(pg_password)
  [ -n "$password" ] || fail "$PGPASSFILE has no line for the role $PG_ROLE"
  # The password goes in on stdin: a command line is visible to every local user.
  as_postgres psql -qAt -v ON_ERROR_STOP=1 >/dev/null 2>&1 <<SQL \
    || fail "could not create the PostgreSQL role $PG_ROLE"
\set role $PG_ROLE
\set password '$password'
SELECT format('CREATE ROLE %I LOGIN CREATEDB', :'role') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I LOGIN CREATEDB PASSWORD %L', :'role', :'password') \gexec
SELECT format('CREATE DATABASE test OWNER %I', :'role') WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'test') \gexec
SQL
  # host:port:database:role:password (any port: the tests reach PostgreSQL through proxies)
  ( umask 077
    mkdir -p "$(dirname "$PGPASSFILE")"
    { printf '127.0.0.1:*:*:%s:%s\n' "$PG_ROLE" "$password"
      printf 'localhost:*:*:%s:%s\n' "$PG_ROLE" "$password"; } > "$PGPASSFILE"
    chmod 600 "$PGPASSFILE" )
  wait_for 10 pg_test_db_reachable \
    || fail "PostgreSQL runs, but database 'test' on 127.0.0.1:5432 is not reachable as $PG_ROLE with the password in $PGPASSFILE"
}

# --- Redis -------------------------------------------------------------------------------------

redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG; }

ensure_redis() {
  if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    apt_install redis-server
  fi
  redis_up 2>/dev/null && return 0
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log >/dev/null 2>&1 \
    || fail "could not start redis-server (see /var/log/redis/ci.log)"
  wait_for 10 redis_up || fail "Redis did not answer on 127.0.0.1:6379 within 10 s (see /var/log/redis/ci.log)"
}

# --- Chromium (Debian's package: Playwright downloads no browser of its own here) -------------

ensure_chromium() {
  command -v chromium >/dev/null || apt_install chromium fonts-noto-cjk
  command -v chromium >/dev/null || fail "chromium is not on PATH after installing Debian's package"
}

# --- nginx (Debian's package; the launcher runs it in front of replicas) -------------------------

ensure_nginx() {
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || apt_install nginx-light
}

# With no arguments: everything `make test` needs. `make cluster` asks for postgres redis nginx.
for what in "${@:-chromium nginx postgres redis}"; do
  for one in $what; do
    case "$one" in
      chromium|nginx|postgres|redis) "ensure_$one" ;;
      *) fail "unknown service $one (chromium, nginx, postgres, redis)" ;;
    esac
  done
done
