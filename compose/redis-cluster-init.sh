#!/bin/sh
# docker-compose.yml, profile "scale": makes the six redis-node-N containers one Redis Cluster
# (three masters, three replicas) and exits 0; exits 0 at once when they already are one.
# CLUSTER MEET takes IP addresses, not names, so the names are resolved here; clients are
# answered with the names (cluster-announce-hostname, cluster-preferred-endpoint-type hostname).
set -e
addrs=''
for n in 1 2 3 4 5 6; do
  until redis-cli -h "redis-node-$n" ping >/dev/null 2>&1; do sleep 1; done
  entry=$(getent hosts "redis-node-$n") # "<address>   redis-node-N"
  addrs="$addrs ${entry%% *}:6379"
done
if ! redis-cli -h redis-node-1 cluster info | grep -q '^cluster_slots_assigned:16384'; then
  # shellcheck disable=SC2086 # one word per node
  redis-cli --cluster create $addrs --cluster-replicas 1 --cluster-yes
fi
until redis-cli -h redis-node-1 cluster info | grep -q '^cluster_state:ok'; do sleep 1; done
echo 'redis-cluster-init: cluster_state:ok'
