#!/usr/bin/env bash
# A Redis Cluster on this machine: Debian's redis-server as six nodes on loopback, three masters
# and three replicas, for running the apps (REDIS_CLUSTER_NODES) and `npm run test:scale`.
#
#   scripts/redis-cluster.sh up       idempotent: starts the nodes that do not answer, creates the
#                                     cluster when it was never created, waits for cluster_state:ok
#                                     and every replica in sync with its master;
#                                     prints REDIS_CLUSTER_NODES=... on stdout
#   scripts/redis-cluster.sh down     stops the nodes this script started (by their pid files)
#                                     and removes the data folder
#   scripts/redis-cluster.sh status   cluster_state and each node's role; exit 1 unless ok
#
# MAILROOM_REDIS_CLUSTER_PORT    first port (default 7001); the nodes take it and the next five,
#                                and their cluster bus ports are each port + 10000
# MAILROOM_REDIS_CLUSTER_DIR     data folder (default .mailroom/redis-cluster)
# MAILROOM_REDIS_CLUSTER_TIMEOUT cluster-node-timeout in ms (default 2000): how long a master must
#                                be unreachable before its replica takes over. Redis's default,
#                                15 s, is for networks that hiccup; on loopback 2 s is plenty.
#
# No persistence (no RDB, no AOF): Redis is a transport here and PostgreSQL the truth; each node
# keeps only nodes.conf, which cluster mode needs to come back with its slots and role.
#
# `up` returns once every replica has finished its first sync (master_link_status:up), not when
# it has merely been given the role: a replica that never synced refuses to take over ("Disconnected
# from master for longer than allowed", cluster-replica-validity-factor), so a master lost in that
# window leaves its slots without a master until it comes back. Redis 7 delays that first (diskless)
# sync by repl-diskless-sync-delay, 5 s, to serve several replicas from one transfer; each master
# here has one replica, so the nodes start with 0.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${MAILROOM_REDIS_CLUSTER_PORT:-7001}
DIR=${MAILROOM_REDIS_CLUSTER_DIR:-$PWD/.mailroom/redis-cluster}
NODE_TIMEOUT=${MAILROOM_REDIS_CLUSTER_TIMEOUT:-2000}
PORTS=()
for ((i = 0; i < 6; i++)); do PORTS+=($((BASE + i))); done

log() { printf 'redis-cluster: %s\n' "$*" >&2; }

answers() { redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null | grep -q PONG; }

info_field() { # info_field PORT FIELD: one field of CLUSTER INFO
  redis-cli -h 127.0.0.1 -p "$1" cluster info 2>/dev/null | tr -d '\r' | sed -n "s/^$2://p"
}

nodes_list() {
  local IFS=,
  local list=()
  for p in "${PORTS[@]}"; do list+=("127.0.0.1:$p"); done
  echo "${list[*]}"
}

start_node() {
  local port=$1 dir=$DIR/$1
  mkdir -p "$dir"
  redis-server --port "$port" --bind 127.0.0.1 --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" \
    --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout "$NODE_TIMEOUT" \
    --save '' --appendonly no --repl-diskless-sync-delay 0 >/dev/null
}

wait_until() { # wait_until SECONDS COMMAND...
  local i
  for ((i = 0; i < $1 * 10; i++)); do
    "${@:2}" && return 0
    sleep 0.1
  done
  return 1
}

# Called only as a condition (wait_until ... || ...), where set -e does not apply: a node that
# does not answer makes it return 1, not end the script.
cluster_ok() {
  for p in "${PORTS[@]}"; do [ "$(info_field "$p" cluster_state)" = ok ] || return 1; done
  # Three replicas (after a failover the old master rejoins as one), each with its master's data
  # (see the top of this file). Asked of each node: CLUSTER NODES names the asking node
  # "myself,slave", which a count of " slave " misses.
  local synced=0 info
  for p in "${PORTS[@]}"; do
    info=$(redis-cli -h 127.0.0.1 -p "$p" info replication 2>/dev/null | tr -d '\r')
    grep -q '^role:slave$' <<<"$info" || continue
    grep -q '^master_link_status:up$' <<<"$info" || return 1
    synced=$((synced + 1))
  done
  [ "$synced" = 3 ]
}

up() {
  if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    log "redis-server and redis-cli are needed (Debian package redis-server)"
    exit 1
  fi
  for p in "${PORTS[@]}"; do
    answers "$p" && continue
    start_node "$p"
  done
  for p in "${PORTS[@]}"; do
    wait_until 10 answers "$p" || {
      log "node $p does not answer; the end of $DIR/$p/redis.log:"
      tail -n 5 "$DIR/$p/redis.log" >&2 2>/dev/null || true
      exit 1
    }
  done
  local assigned known
  assigned=$(info_field "${PORTS[0]}" cluster_slots_assigned)
  known=$(info_field "${PORTS[0]}" cluster_known_nodes)
  if [ "$assigned" = 0 ] && [ "$known" = 1 ]; then
    log "creating the cluster on ports ${PORTS[0]}-${PORTS[5]}"
    local addrs=()
    for p in "${PORTS[@]}"; do addrs+=("127.0.0.1:$p"); done
    redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes >"$DIR/create.log" 2>&1 || {
      cat "$DIR/create.log" >&2
      exit 1
    }
  elif [ "$assigned" != 16384 ]; then
    log "node ${PORTS[0]} knows $known nodes and $assigned slots: a half-made cluster; run down, then up"
    exit 1
  fi
  wait_until 30 cluster_ok || {
    status >&2 || true
    log "the cluster did not reach cluster_state:ok with three replicas in sync"
    exit 1
  }
  echo "REDIS_CLUSTER_NODES=$(nodes_list)"
}

down() {
  for p in "${PORTS[@]}"; do
    local pidfile=$DIR/$p/redis.pid pid
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    # Only a redis-server this script started: the pid file's process, if it is still that.
    if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "redis-server.*:$p"; then
      kill "$pid" 2>/dev/null || true
      wait_until 10 test ! -e "/proc/$pid" || kill -9 "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$DIR"
}

status() {
  local p state='' role
  for p in "${PORTS[@]}"; do
    # A node that is down answers nothing (and fails the pipeline): ask the next.
    state=$(info_field "$p" cluster_state || true)
    [ -n "$state" ] && break
  done
  echo "cluster_state:${state:-down}"
  for p in "${PORTS[@]}"; do
    if answers "$p"; then
      role=$(redis-cli -h 127.0.0.1 -p "$p" role 2>/dev/null | head -n 1)
      echo "127.0.0.1:$p $role"
    else
      echo "127.0.0.1:$p down"
    fi
  done
  [ "$state" = ok ]
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *)
    echo "usage: $0 up|down|status" >&2
    exit 2
    ;;
esac
