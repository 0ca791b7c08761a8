#!/bin/bash
# docker-compose.yml, profile "scale": the command of a streaming replica in the postgres:17
# image. With an empty data folder it takes a base backup of the primary over a physical
# replication slot named after the standby (so the primary keeps the WAL it has not received)
# and makes the folder a hot standby; then it runs the image's entrypoint as usual.
#   PRIMARY_HOST, REPLICA_NAME (application_name and slot, as in the primary's
#   synchronous_standby_names), REPLICATION_PASSWORD (a plain word: it goes into a conninfo)
set -eo pipefail
: "${PRIMARY_HOST:?}" "${REPLICA_NAME:?}" "${REPLICATION_PASSWORD:?}"
PGDATA=${PGDATA:-/var/lib/postgresql/data}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -q -h "$PRIMARY_HOST" -p 5432; do sleep 1; done
  mkdir -p "$PGDATA"
  chown postgres:postgres "$PGDATA"
  chmod 700 "$PGDATA"
  export PGPASSWORD=$REPLICATION_PASSWORD
  conn="host=$PRIMARY_HOST port=5432 user=replicator application_name=$REPLICA_NAME"
  echo "pg-replica: base backup of $PRIMARY_HOST as $REPLICA_NAME"
  # -C creates the slot; a standby rebuilt on an empty volume finds its slot there already.
  if ! gosu postgres pg_basebackup -d "$conn" -D "$PGDATA" -X stream -S "$REPLICA_NAME" -C -c fast; then
    find "$PGDATA" -mindepth 1 -delete
    gosu postgres pg_basebackup -d "$conn" -D "$PGDATA" -X stream -S "$REPLICA_NAME" -c fast
  fi
  # Appended last, so these win over whatever postgresql.auto.conf carried over from the primary.
  printf "primary_conninfo = '%s password=%s'\nprimary_slot_name = '%s'\n" "$conn" "$REPLICATION_PASSWORD" "$REPLICA_NAME" |
    gosu postgres tee -a "$PGDATA/postgresql.auto.conf" >/dev/null
  gosu postgres touch "$PGDATA/standby.signal"
fi

exec docker-entrypoint.sh postgres -c hot_standby=on -c hot_standby_feedback=on
