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
  local app cmd
  for app in "${APPS[@]}"; do
    # package.json's start:<app> as it is (the memory settings of the api and the mta, README
    # "Running the apps"), without npm in between so the pid is node's: "[VAR=value...] node
    # [--flag...] dist/apps/<app>/src/main.js", run through env.
    cmd=$(node -p "require('./package.json').scripts['start:$app']")
    case "$cmd" in
      *\;* | *\&* | *\|* | *\$* | *\`*) echo "start:$app is not a plain command: $cmd" >&2; exit 1 ;;
    esac
    # shellcheck disable=SC2086 # the words of the script, split as npm's shell would
    nohup env $cmd >>"$RUN/$app.log" 2>&1 &
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
