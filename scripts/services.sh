#!/usr/bin/env bash
# Makes PostgreSQL and Redis answer for Mailroom, then writes the URLs that work to
# $MAILROOM_SERVICES_DIR/services.env (default .mailroom/services/services.env).
#
#   scripts/services.sh up     idempotent: start only what does not answer yet
#   scripts/services.sh down   stop what this script started (never a server it found running)
#   scripts/services.sh tools  the real programs the tests drive (mutt, fetchmail, chromium, haproxy), from
#                              Debian's packages when missing and we are root
#   scripts/services.sh scale-tools  what `npm run test:scale` adds (HAProxy in front of two of
#                              each app), the same way
#
# For each of PostgreSQL and Redis, in order:
#   1. DATABASE_URL / REDIS_URL (environment, else .env, else the defaults) when they answer;
#   2. Docker Compose (docker-compose.yml) when a Docker engine runs;
#   3. the machine's own binaries, data under the services folder, installing Debian's packages
#      (postgresql, redis-server) when missing and we are root.
# MAILROOM_SERVICES_MODE=local skips 1 and 2 (used by the tests of this script).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
STATE=${MAILROOM_SERVICES_DIR:-$ROOT/.mailroom/services}
PG_PORT=${MAILROOM_PG_PORT:-55432}
REDIS_PORT=${MAILROOM_REDIS_PORT:-56379}
MODE=${MAILROOM_SERVICES_MODE:-auto}
PROBE="node $ROOT/scripts/services/probe.mjs"

log() { printf 'services: %s\n' "$*" >&2; }

dotenv_value() { # dotenv_value NAME: the value of NAME in .env, if any
  [ -f .env ] || return 0
  sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" .env | tail -n 1 | sed -e 's/^["'\'']//' -e 's/["'\'']$//'
}

DATABASE_URL=${DATABASE_URL:-$(dotenv_value DATABASE_URL)}
DATABASE_URL=${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/mailroom}
REDIS_URL=${REDIS_URL:-$(dotenv_value REDIS_URL)}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
DB_NAME=$(node -e 'console.log(decodeURIComponent(new URL(process.argv[1]).pathname.slice(1)) || "mailroom")' "$DATABASE_URL")

wait_for() { # wait_for pg|redis URL SECONDS
  local i
  for ((i = 0; i < $3 * 4; i++)); do
    $PROBE "$1" "$2" && return 0
    sleep 0.25
  done
  return 1
}

docker_running() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    log "$1 is not installed; install Debian's package '$1'${2:+ (or set $2)} and run again"
    exit 1
  fi
  log "installing Debian package $1"
  if [ ! -f "$STATE/.apt-updated" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    touch "$STATE/.apt-updated"
  fi
  # A policy-rc.d that answers 101 keeps the package from starting its own system service:
  # this script runs the server itself, with data under the services folder.
  local policy=/usr/sbin/policy-rc.d added=no
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && added=yes
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$1" >/dev/null
  [ $added = yes ] && rm -f "$policy"
  return 0
}

pg_bindir() {
  if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v pg_ctl)")"
    return
  fi
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

as_pg_user() { # run a PostgreSQL binary as an unprivileged user: it refuses to run as root
  if [ "$(id -u)" = 0 ]; then
    runuser -u "$PG_USER" -- "$@"
  else
    "$@"
  fi
}

start_local_postgres() {
  local bindir data
  bindir=$(pg_bindir)
  if [ -z "$bindir" ]; then
    apt_install postgresql DATABASE_URL
    bindir=$(pg_bindir)
  fi
  PG_USER=$(id -un)
  if [ "$(id -u)" = 0 ]; then
    PG_USER=postgres
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres
  fi
  data=$STATE/pg
  mkdir -p "$data"
  [ "$(id -u)" = 0 ] && chown -R "$PG_USER" "$data" && chmod 700 "$data"
  if ! as_pg_user test -w "$data"; then
    log "the PostgreSQL user $PG_USER cannot write $data (a parent folder is closed to it)"
    exit 1
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    log "initialising a PostgreSQL cluster in $data"
    as_pg_user "$bindir/initdb" -D "$data" -U postgres -A trust -E UTF8 --no-locale >"$STATE/initdb.log" 2>&1
  fi
  if ! as_pg_user "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    as_pg_user "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
      -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $data -c fsync=on" start >/dev/null
  fi
  DATABASE_URL="postgresql://postgres@127.0.0.1:$PG_PORT/$DB_NAME"
}

start_local_redis() {
  if ! command -v redis-server >/dev/null 2>&1; then apt_install redis-server REDIS_URL; fi
  local pidfile=$STATE/redis.pid
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    :
  else
    log "starting Redis on 127.0.0.1:$REDIS_PORT"
    mkdir -p "$STATE/redis"
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --pidfile "$pidfile" \
      --dir "$STATE/redis" --logfile "$STATE/redis/redis.log" --save '' --appendonly no >/dev/null
  fi
  REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
}

start_compose() {
  log "starting postgres and redis with Docker Compose"
  MAILROOM_PG_PORT=$PG_PORT MAILROOM_REDIS_PORT=$REDIS_PORT docker compose up -d --wait postgres redis >&2
  touch "$STATE/compose"
}

up() {
  mkdir -p "$STATE"
  local pg_ok=no redis_ok=no
  if [ "$MODE" != local ]; then
    $PROBE pg "$DATABASE_URL" && pg_ok=yes
    $PROBE redis "$REDIS_URL" && redis_ok=yes
    if { [ $pg_ok = no ] || [ $redis_ok = no ]; } && docker_running; then
      start_compose
      [ $pg_ok = no ] && DATABASE_URL="postgresql://mailroom:mailroom@127.0.0.1:$PG_PORT/$DB_NAME"
      [ $redis_ok = no ] && REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
      pg_ok=yes redis_ok=yes
    fi
  fi
  [ $pg_ok = no ] && start_local_postgres
  [ $redis_ok = no ] && start_local_redis
  wait_for pg "$DATABASE_URL" 60 || { log "PostgreSQL does not answer at $DATABASE_URL"; exit 1; }
  wait_for redis "$REDIS_URL" 30 || { log "Redis does not answer at $REDIS_URL"; exit 1; }
  $PROBE ensure-db "$DATABASE_URL"
  printf 'DATABASE_URL=%s\nREDIS_URL=%s\n' "$DATABASE_URL" "$REDIS_URL" >"$STATE/services.env.tmp"
  mv "$STATE/services.env.tmp" "$STATE/services.env"
  log "PostgreSQL $DATABASE_URL"
  log "Redis $REDIS_URL"
}

down() {
  local bindir
  if [ -f "$STATE/pg/postmaster.pid" ]; then
    bindir=$(pg_bindir)
    PG_USER=$(stat -c %U "$STATE/pg")
    log "stopping PostgreSQL ($STATE/pg)"
    as_pg_user "$bindir/pg_ctl" -D "$STATE/pg" -m fast -w stop >/dev/null 2>&1 || true
  fi
  if [ -f "$STATE/redis.pid" ]; then
    log "stopping Redis"
    kill "$(cat "$STATE/redis.pid")" 2>/dev/null || true
    rm -f "$STATE/redis.pid"
  fi
  if [ -f "$STATE/compose" ] && docker_running; then
    log "stopping Docker Compose services"
    docker compose stop postgres redis >&2 || true
    rm -f "$STATE/compose"
  fi
  rm -f "$STATE/services.env"
}

# The IMAP and POP3 tests read mail with real clients: mutt (IMAP) and fetchmail (POP3); the
# dashboard tests drive chromium; the PROXY protocol tests put HAProxy in front of the apps.
tools() {
  mkdir -p "$STATE"
  command -v mutt >/dev/null 2>&1 || apt_install mutt
  command -v fetchmail >/dev/null 2>&1 || apt_install fetchmail
  # The dashboard's browser tests drive Debian's Chromium (playwright-core, no browser download).
  [ -x /usr/bin/chromium ] || apt_install chromium
  [ -x /usr/sbin/haproxy ] || apt_install haproxy
  return 0
}

scale_tools() {
  mkdir -p "$STATE"
  # test/scale/two-of-each.test.ts runs /usr/sbin/haproxy itself (the package's own service
  # stays off: apt_install's policy-rc.d). Not root: the other scale tests still run, and that
  # one says what is missing.
  [ -x /usr/sbin/haproxy ] && return 0
  if [ "$(id -u)" != 0 ]; then
    log "haproxy is not installed; install Debian's package 'haproxy' for test/scale/two-of-each.test.ts"
    return 0
  fi
  apt_install haproxy
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  tools) tools ;;
  scale-tools) scale_tools ;;
  *) echo "usage: $0 up|down|tools|scale-tools" >&2; exit 2 ;;
esac
