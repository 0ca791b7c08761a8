#!/usr/bin/env bash
# Runs the built api, mta, worker and imap in the background (logs and pids under .mailroom/run).
#   scripts/apps.sh start | stop | status
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=.mailroom/run
APPS=(api mta worker imap)

stop() {
  local app pid
  for app in "${APPS[@]}"; do
    [ -f "$RUN/$app.pid" ] || continue
    pid=$(cat "$RUN/$app.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -9 "$pid" 2>/dev/null || true
      echo "stopped $app ($pid)"
    fi
    rm -f "$RUN/$app.pid"
  done
}

start() {
  stop >/dev/null
  mkdir -p "$RUN"
  local app
  for app in "${APPS[@]}"; do
    if [ "$app" = api ]; then
      # The API's memory settings, as in package.json's start:api (README, "Running the apps").
      MALLOC_ARENA_MAX=2 nohup node --heap-growing-percent=50 --max-semi-space-size=8 \
        "dist/apps/$app/src/main.js" >>"$RUN/$app.log" 2>&1 &
    else
      nohup node "dist/apps/$app/src/main.js" >>"$RUN/$app.log" 2>&1 &
    fi
    echo $! >"$RUN/$app.pid"
  done
}

status() {
  local app
  for app in "${APPS[@]}"; do
    if [ -f "$RUN/$app.pid" ] && kill -0 "$(cat "$RUN/$app.pid")" 2>/dev/null; then
      echo "$app: running (pid $(cat "$RUN/$app.pid"), log $RUN/$app.log)"
    else
      echo "$app: stopped"
    fi
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
