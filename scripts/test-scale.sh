#!/usr/bin/env bash
# `npm run test:scale`: the cases of issue #17 that need more than one Redis. Brings up the Redis
# Cluster of scripts/redis-cluster.sh (six nodes on 7001-7006), points the tests and every app
# they start at it (REDIS_CLUSTER_NODES, which wins over REDIS_URL), and runs through
# scripts/test.sh (services, build, Vitest, the "N passed, N failed" line):
#   test/scale                     the cluster itself: our Lua scripts, counters, locks, BullMQ
#                                  prefixes, and a master killed mid-queue (private cluster)
#   test/e2e/outbound.test.ts      outbound delivery through the worker (Redis flushed mid-queue
#                                  is a private cluster flushed on every master)
#   test/faults/redis-flush.test.ts  the fault suite's Redis case, on a private cluster
#   test/faults/two-mtas.test.ts     two MTAs and two workers sharing the cluster
#   test/e2e/health.test.ts          /health 503 when the (private) cluster is gone
#   test/scale/pg-*.test.ts        a private PostgreSQL primary + streaming replica pair each
#                                  (scripts/pg-replica.sh): the failover drill (synchronous
#                                  replica promoted mid-burst) and the API reading from a replica
#   test/scale/two-of-each.test.ts the compose profile itself, as processes: api, mta, imap and
#                                  worker twice each on the cluster and a private primary +
#                                  replica, behind Debian's HAProxy (/usr/sbin/haproxy, installed
#                                  here when missing and we are root); one MTA and one worker
#                                  killed -9 mid-burst, mail read back over IMAP and POP3
#   test/e2e/api/{isolation,mailboxes,deliveries}.test.ts  with the API's read routes on the
#                                  streaming replica of the shared server (scripts/pg-replica.sh
#                                  up, port 55433; MAILROOM_TEST_REPLICA_URL)
#   and the tests of what else keeps state in Redis: login counters and lockouts, app passwords,
#   sending limits, the POP3 maildrop lock, the API's rate limits, passkey challenges, webhooks,
#   delivery retries from the API.
# Extra arguments replace that list (npm run test:scale -- test/scale). The cluster is left
# running when it was running before, and stopped otherwise; so is the replica.
set -euo pipefail
cd "$(dirname "$0")/.."

was_up=no
bash scripts/redis-cluster.sh status >/dev/null 2>&1 && was_up=yes
nodes=$(bash scripts/redis-cluster.sh up | sed -n 's/^REDIS_CLUSTER_NODES=//p')
# The replica follows the shared server that scripts/services.sh finds or starts.
bash scripts/services.sh up >&2
bash scripts/services.sh scale-tools >&2
replica_was_up=no
bash scripts/pg-replica.sh status >/dev/null 2>&1 && replica_was_up=yes
replica=$(bash scripts/pg-replica.sh up | sed -n 's/^DATABASE_REPLICA_URLS=//p')
cleanup() {
  [ $was_up = yes ] || bash scripts/redis-cluster.sh down
  [ $replica_was_up = yes ] || bash scripts/pg-replica.sh down
}
trap cleanup EXIT

export REDIS_CLUSTER_NODES=$nodes
export MAILROOM_TEST_SCALE=1
export MAILROOM_TEST_REPLICA_URL=$replica
if [ $# -eq 0 ]; then
  set -- test/scale test/e2e/outbound.test.ts test/faults/redis-flush.test.ts test/faults/two-mtas.test.ts \
    test/e2e/health.test.ts test/integration/access.test.ts test/e2e/mta/submission-auth.test.ts \
    test/e2e/mta/submission-send.test.ts test/e2e/api/app-passwords.test.ts test/e2e/pop3/pop3-races.test.ts \
    test/e2e/api/auth.test.ts test/e2e/api/passkeys.test.ts test/e2e/api/webhooks.test.ts \
    test/e2e/api/deliveries.test.ts test/e2e/api/isolation.test.ts test/e2e/api/mailboxes.test.ts
fi
bash scripts/test.sh "$@"
