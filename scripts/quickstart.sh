#!/usr/bin/env bash
# `npm start`: from a fresh clone to a running platform. Installs dependencies, makes PostgreSQL
# and Redis answer, builds, migrates, seeds the demo tenant, starts api + mta + worker in the
# background and prints what to do next (the dashboard's address and sign-in first). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

require_node
ensure_node_modules

if [ ! -f .env ]; then
  key=$(node -e 'console.log(require("crypto").randomBytes(32).toString("hex"))')
  sed "s/^MASTER_KEY=.*/MASTER_KEY=$key/" .env.example >.env
  chmod 600 .env
  echo "wrote .env (with a new MASTER_KEY)" >&2
fi

bash scripts/services.sh up
load_services_env
npm run --silent build >&2
npm run --silent db:migrate >&2
demo=$(node dist/apps/cli/src/main.js seed --json)
bash scripts/apps.sh start

# Settings as the apps see them (environment over .env), for the summary.
eval "$(node -e '
  require("dotenv").config({ quiet: true });
  const e = process.env;
  const out = { API_PORT: e.API_PORT || 3000, SMTP_PORT: e.SMTP_PORT || 2525, SUBMISSION_PORT: e.SUBMISSION_PORT || 2587,
    SUBMISSIONS_PORT: e.SUBMISSIONS_PORT || 2465, MTA_HEALTH_PORT: e.MTA_HEALTH_PORT || 9101, WORKER_HEALTH_PORT: e.WORKER_HEALTH_PORT || 9102,
    IMAP_PORT: e.IMAP_PORT || 1143, IMAPS_PORT: e.IMAPS_PORT || 1993, POP3_PORT: e.POP3_PORT || 1110, POP3S_PORT: e.POP3S_PORT || 1995,
    IMAP_HEALTH_PORT: e.IMAP_HEALTH_PORT || 9103 };
  for (const [k, v] of Object.entries(out)) console.log(`${k}=${v}`);
')"

healthy() { curl -fsS -o /dev/null "$1" 2>/dev/null || node -e 'fetch(process.argv[1]).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))' "$1"; }
for url in "http://127.0.0.1:$API_PORT/health" "http://127.0.0.1:$MTA_HEALTH_PORT/health" "http://127.0.0.1:$WORKER_HEALTH_PORT/health" "http://127.0.0.1:$IMAP_HEALTH_PORT/health"; do
  ok=no
  for _ in $(seq 1 120); do
    if healthy "$url"; then ok=yes; break; fi
    sleep 0.5
  done
  if [ $ok = no ]; then
    echo "not healthy: $url; see the logs in .mailroom/run/" >&2
    bash scripts/apps.sh status >&2
    exit 1
  fi
done

field() { node -e 'console.log(JSON.parse(process.argv[1])[process.argv[2]])' "$demo" "$1"; }
cat <<MSG

Mailroom is running (api, mta, worker, imap; logs in .mailroom/run/).

  Dashboard      http://127.0.0.1:$API_PORT/   sign in as $(field adminEmail)  password $(field adminPassword)
  API            http://127.0.0.1:$API_PORT
  OpenAPI docs   http://127.0.0.1:$API_PORT/docs   (document: /openapi.json)
  Health         http://127.0.0.1:$API_PORT/health, mta :$MTA_HEALTH_PORT/health, worker :$WORKER_HEALTH_PORT/health (+ /metrics)
  SMTP           inbound MX 127.0.0.1:$SMTP_PORT, submission :$SUBMISSION_PORT (STARTTLS), :$SUBMISSIONS_PORT (TLS)
  IMAP           127.0.0.1:$IMAP_PORT (STARTTLS), :$IMAPS_PORT (TLS); health :$IMAP_HEALTH_PORT/health
  POP3           127.0.0.1:$POP3_PORT (STLS), :$POP3S_PORT (TLS)

  Demo tenant    $(field tenantId)
  Demo API key   $(field apiKey)
  Demo mailbox   $(field mailbox)  password $(field mailboxPassword)

Next:
  curl -s http://127.0.0.1:$API_PORT/v1/tenants/$(field tenantId) -H 'authorization: Bearer $(field apiKey)'
  curl -s http://127.0.0.1:$API_PORT/v1/tenants/$(field tenantId)/audit-log -H 'authorization: Bearer $(field apiKey)'
  npm run cli -- admin:create --email you@example.com --password 'a long passphrase'
  mutt -f 'imaps://$(field mailbox | sed 's/@/%40/')@127.0.0.1:$IMAPS_PORT/INBOX' \\
    -e 'set imap_pass=$(field mailboxPassword)'   # read the demo mailbox; accept the self-signed certificate once
  npm stop            # stop api, mta, worker and imap
  npm run services:down
MSG
