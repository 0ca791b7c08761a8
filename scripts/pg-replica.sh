#!/usr/bin/env bash
# A PostgreSQL streaming replica on this machine (Debian's PostgreSQL binaries, pg_basebackup, a
# second instance on loopback), for DATABASE_REPLICA_URLS and `npm run test:scale`.
#
#   scripts/pg-replica.sh up        idempotent: (starts the private primary, see below,) lets the
#                                   primary stream to 127.0.0.1 (a pg_hba line when missing and
#                                   the file is ours to change), creates a physical replication
#                                   slot, takes a base backup when there is none, starts the
#                                   replica, waits until it streams; prints DATABASE_REPLICA_URLS=
#                                   (and DATABASE_URL= of the primary) on stdout
#   scripts/pg-replica.sh down      stops what this script started (by its data folders), drops
#                                   the slot on the primary, removes the data folder
#   scripts/pg-replica.sh status    role and lag of the replica, the primary's view of it; exit 1
#                                   unless it streams
#   scripts/pg-replica.sh promote   pg_ctl promote: the replica becomes a primary; prints
#                                   DATABASE_URL= of it
#
# MAILROOM_PG_REPLICA_PORT  the replica's port (default 55433)
# MAILROOM_PG_REPLICA_DIR   data folder (default .mailroom/pg-replica)
# MAILROOM_PG_PRIMARY_PORT  when set, a PRIVATE primary too (initdb under the data folder, on this
#                           port): for a failover drill that kills the primary without touching
#                           the one every other process uses. Unset: the primary is DATABASE_URL
#                           (environment, else scripts/services.sh's services.env).
# MAILROOM_PG_REPLICA_SYNC  1: the private primary waits for the replica before a commit returns
#                           (synchronous_standby_names, synchronous_commit=on), so a commit the
#                           MTA answered 250 to is on both. Only with a private primary: on a
#                           shared primary a stopped replica would stall every commit.
# MAILROOM_PG_DATABASE      database name in the printed URLs (default: DATABASE_URL's, mailroom)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DIR=${MAILROOM_PG_REPLICA_DIR:-$ROOT/.mailroom/pg-replica}
PORT=${MAILROOM_PG_REPLICA_PORT:-55433}
PRIVATE_PORT=${MAILROOM_PG_PRIMARY_PORT:-}
SYNC=${MAILROOM_PG_REPLICA_SYNC:-0}
NAME=mailroom_replica_$PORT # application_name and slot name
REPLICA=$DIR/replica
PRIMARY_DATA=$DIR/primary

log() { printf 'pg-replica: %s\n' "$*" >&2; }

if [ -n "$PRIVATE_PORT" ]; then
  PRIMARY_HOST=127.0.0.1 PRIMARY_PORT=$PRIVATE_PORT PRIMARY_USER=postgres
  DB_NAME=${MAILROOM_PG_DATABASE:-mailroom}
else
  if [ -z "${DATABASE_URL:-}" ]; then
    . scripts/lib.sh
    load_services_env
  fi
  eval "$(node -e '
    const u = new URL(process.argv[1]);
    const q = (s) => "\x27" + s.replace(/\x27/g, "") + "\x27";
    console.log(`PRIMARY_HOST=${q(u.hostname || "127.0.0.1")} PRIMARY_PORT=${q(u.port || "5432")}`);
    console.log(`PRIMARY_USER=${q(decodeURIComponent(u.username) || "postgres")}`);
    console.log(`URL_DB=${q(decodeURIComponent(u.pathname.slice(1)) || "mailroom")}`);
  ' "$DATABASE_URL")"
  DB_NAME=${MAILROOM_PG_DATABASE:-$URL_DB}
fi
PRIMARY_CONN="host=$PRIMARY_HOST port=$PRIMARY_PORT user=$PRIMARY_USER"

# The binaries of the primary's major version: pg_basebackup and the server must match it.
bindir() {
  local major
  major=$(psql "$PRIMARY_CONN dbname=postgres" -Atc 'SHOW server_version_num' 2>/dev/null | cut -c1-2) || true
  if [ -n "$major" ] && [ -x "/usr/lib/postgresql/$major/bin/pg_ctl" ]; then
    echo "/usr/lib/postgresql/$major/bin"
  else
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
  fi
}

PG_USER=$(id -un)
[ "$(id -u)" = 0 ] && PG_USER=postgres
as_pg() { # PostgreSQL's server binaries refuse to run as root
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

wait_until() { # wait_until SECONDS COMMAND...
  local i
  for ((i = 0; i < $1 * 10; i++)); do
    "${@:2}" && return 0
    sleep 0.1
  done
  return 1
}

answers() { psql "host=127.0.0.1 port=$1 user=postgres dbname=postgres connect_timeout=2" -Atc 'SELECT 1' >/dev/null 2>&1; }
# Our own statements never wait for a synchronous replica (it may be the one being set up).
primary_sql() { PGOPTIONS='-c synchronous_commit=local' psql "$PRIMARY_CONN dbname=postgres connect_timeout=3" -v ON_ERROR_STOP=1 -Atc "$1"; }
replica_sql() { psql "host=127.0.0.1 port=$PORT user=postgres dbname=postgres connect_timeout=3" -Atc "$1"; }

own_dir() { # own_dir PATH: a folder the server user may write
  mkdir -p "$1"
  [ "$(id -u)" = 0 ] && chown "$PG_USER" "$1"
  chmod 700 "$1"
}

start_private_primary() {
  local bin=$1
  if [ ! -f "$PRIMARY_DATA/PG_VERSION" ]; then
    own_dir "$PRIMARY_DATA"
    as_pg "$bin/initdb" -D "$PRIMARY_DATA" -U postgres -A trust -E UTF8 --no-locale >"$DIR/initdb.log" 2>&1
    {
      echo "listen_addresses = '127.0.0.1'"
      echo "port = $PRIVATE_PORT"
      echo "unix_socket_directories = '$PRIMARY_DATA'"
      echo "wal_level = replica"
      echo "max_wal_senders = 10"
      echo "max_replication_slots = 10"
      echo "fsync = on"
      echo "max_connections = 60"
      if [ "$SYNC" = 1 ]; then
        # A commit returns once the replica has flushed it to disk (synchronous_commit = on).
        echo "synchronous_standby_names = '$NAME'"
        echo "synchronous_commit = on"
      fi
    } >>"$PRIMARY_DATA/postgresql.conf"
    # initdb -A trust writes local and host lines for all databases and for replication.
  fi
  if ! as_pg "$bin/pg_ctl" -D "$PRIMARY_DATA" status >/dev/null 2>&1; then
    log "starting the private primary on 127.0.0.1:$PRIVATE_PORT"
    as_pg "$bin/pg_ctl" -D "$PRIMARY_DATA" -l "$PRIMARY_DATA/server.log" -w -t 60 start >/dev/null
  fi
  psql "$PRIMARY_CONN dbname=postgres" -Atc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" | grep -q 1 ||
    # Not waiting for a synchronous replica that does not exist yet.
    PGOPTIONS='-c synchronous_commit=local' psql "$PRIMARY_CONN dbname=postgres" -qc "CREATE DATABASE \"$DB_NAME\""
}

# The primary must accept a replication connection from 127.0.0.1. Debian's default pg_hba.conf
# has such lines; when they were taken out and the file is ours (root, a local cluster), add one
# and reload: a reload does not touch running sessions.
allow_replication() {
  psql "$PRIMARY_CONN replication=true dbname=replication connect_timeout=3" -Atc 'IDENTIFY_SYSTEM' >/dev/null 2>&1 && return 0
  local hba
  hba=$(primary_sql 'SHOW hba_file' 2>/dev/null) || true
  if [ -z "$hba" ] || [ ! -w "$hba" ]; then
    log "the primary refuses replication connections from 127.0.0.1; add to its pg_hba.conf:"
    log "  host replication $PRIMARY_USER 127.0.0.1/32 trust   (or scram-sha-256 with a password)"
    exit 1
  fi
  log "adding 'host replication $PRIMARY_USER 127.0.0.1/32 trust' to $hba and reloading the primary"
  printf '# Added by mailroom scripts/pg-replica.sh: streaming replication from loopback.\nhost replication %s 127.0.0.1/32 trust\n' \
    "$PRIMARY_USER" >>"$hba"
  primary_sql 'SELECT pg_reload_conf()' >/dev/null
  wait_until 10 psql "$PRIMARY_CONN replication=true dbname=replication connect_timeout=3" -Atc 'IDENTIFY_SYSTEM' >/dev/null 2>&1 || {
    log "the primary still refuses replication connections"
    exit 1
  }
}

# A base backup of the primary into $REPLICA, configured as a hot standby on $PORT.
base_backup() {
  local bin=$1
  [ "$(primary_sql 'SHOW wal_level')" != minimal ] || {
    log "the primary has wal_level = minimal; set it to replica and restart it"
    exit 1
  }
  primary_sql "SELECT pg_create_physical_replication_slot('$NAME') WHERE NOT EXISTS
    (SELECT 1 FROM pg_replication_slots WHERE slot_name = '$NAME')" >/dev/null
  rm -rf "$REPLICA"
  own_dir "$REPLICA"
  log "taking a base backup of $PRIMARY_HOST:$PRIMARY_PORT into $REPLICA"
  as_pg "$bin/pg_basebackup" -d "$PRIMARY_CONN application_name=$NAME" -D "$REPLICA" \
    -X stream -S "$NAME" -c fast >"$DIR/basebackup.log" 2>&1 || {
    cat "$DIR/basebackup.log" >&2
    exit 1
  }
  # Debian keeps postgresql.conf and pg_hba.conf in /etc, outside the data folder, so the backup
  # may have none: the replica gets its own. A hot standby needs these limits >= the primary's.
  local limits
  limits=$(primary_sql "SELECT string_agg(name || ' = ' || setting, E'\n') FROM pg_settings WHERE name IN
    ('max_connections', 'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions',
     'max_locks_per_transaction')")
  {
    echo "listen_addresses = '127.0.0.1'"
    echo "port = $PORT"
    echo "unix_socket_directories = '$REPLICA'"
    echo "hot_standby = on"
    echo "hot_standby_feedback = on"
    echo "wal_level = replica"
    echo "fsync = on"
    echo "$limits"
  } | as_pg tee "$REPLICA/postgresql.conf" >/dev/null
  printf 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n' |
    as_pg tee "$REPLICA/pg_hba.conf" >/dev/null
  : | as_pg tee "$REPLICA/pg_ident.conf" >/dev/null
  printf "primary_conninfo = '%s application_name=%s'\nprimary_slot_name = '%s'\n" "$PRIMARY_CONN" "$NAME" "$NAME" |
    as_pg tee "$REPLICA/postgresql.auto.conf" >/dev/null
  as_pg touch "$REPLICA/standby.signal"
}

streaming() {
  [ "$(replica_sql 'SELECT pg_is_in_recovery()' 2>/dev/null)" = t ] &&
    [ "$(primary_sql "SELECT state FROM pg_stat_replication WHERE application_name = '$NAME'" 2>/dev/null)" = streaming ]
}

up() {
  mkdir -p "$DIR"
  chmod 755 "$DIR"
  local bin
  bin=$(bindir)
  [ -n "$bin" ] || {
    log "PostgreSQL's binaries are needed (Debian package postgresql)"
    exit 1
  }
  [ -n "$PRIVATE_PORT" ] && start_private_primary "$bin"
  answers "$PRIMARY_PORT" || [ "$PRIMARY_HOST" != 127.0.0.1 ] || {
    log "the primary $PRIMARY_HOST:$PRIMARY_PORT does not answer"
    exit 1
  }
  allow_replication
  [ -f "$REPLICA/PG_VERSION" ] || base_backup "$bin"
  if ! as_pg "$bin/pg_ctl" -D "$REPLICA" status >/dev/null 2>&1; then
    log "starting the replica on 127.0.0.1:$PORT"
    as_pg "$bin/pg_ctl" -D "$REPLICA" -l "$REPLICA/server.log" -w -t 120 start >/dev/null || {
      tail -n 20 "$REPLICA/server.log" >&2
      exit 1
    }
  fi
  if [ "$(replica_sql 'SELECT pg_is_in_recovery()')" = t ]; then
    wait_until 60 streaming || {
      status >&2 || true
      log "the replica does not stream from the primary; see $REPLICA/server.log"
      exit 1
    }
  fi
  [ -n "$PRIVATE_PORT" ] && echo "DATABASE_URL=postgresql://postgres@127.0.0.1:$PRIVATE_PORT/$DB_NAME"
  echo "DATABASE_REPLICA_URLS=postgresql://postgres@127.0.0.1:$PORT/$DB_NAME"
}

stop_dir() { # stop_dir DATA: the server of that folder, if running
  local bin=$1 data=$2
  [ -f "$data/postmaster.pid" ] || return 0
  as_pg "$bin/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
    as_pg "$bin/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
}

down() {
  local bin
  bin=$(bindir)
  stop_dir "$bin" "$REPLICA"
  # A slot left behind makes the primary keep WAL for a replica that never comes back.
  primary_sql "SELECT pg_drop_replication_slot('$NAME') FROM pg_replication_slots
    WHERE slot_name = '$NAME' AND NOT active" >/dev/null 2>&1 || true
  [ -n "$PRIVATE_PORT" ] && stop_dir "$bin" "$PRIMARY_DATA"
  rm -rf "$DIR"
}

promote() {
  local bin
  bin=$(bindir)
  [ "$(replica_sql 'SELECT pg_is_in_recovery()' 2>/dev/null)" = t ] && {
    log "promoting the replica on 127.0.0.1:$PORT"
    as_pg "$bin/pg_ctl" -D "$REPLICA" -w -t 60 promote >/dev/null
  }
  [ "$(replica_sql 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ] || {
    log "the replica on 127.0.0.1:$PORT is not running"
    exit 1
  }
  echo "DATABASE_URL=postgresql://postgres@127.0.0.1:$PORT/$DB_NAME"
}

status() {
  local recovery
  recovery=$(replica_sql 'SELECT pg_is_in_recovery()' 2>/dev/null) || recovery=''
  case "$recovery" in
    t)
      echo "replica 127.0.0.1:$PORT: standby of $PRIMARY_HOST:$PRIMARY_PORT"
      replica_sql "SELECT 'replay lag: ' || CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN '0 (caught up)'
        ELSE coalesce(round(extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000)::text || ' ms', 'unknown') END"
      ;;
    f) echo "replica 127.0.0.1:$PORT: promoted, a primary now" ;;
    *) echo "replica 127.0.0.1:$PORT: down" ;;
  esac
  local seen
  seen=$(primary_sql "SELECT state || ' ' || sync_state FROM pg_stat_replication WHERE application_name = '$NAME'" 2>/dev/null) || seen=''
  echo "primary $PRIMARY_HOST:$PRIMARY_PORT: ${seen:-no replica connected} (slot $NAME)"
  [ "$recovery" = t ] && [ "${seen%% *}" = streaming ]
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  promote) promote ;;
  *)
    echo "usage: $0 up|down|status|promote" >&2
    exit 2
    ;;
esac
