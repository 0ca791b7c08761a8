#!/bin/bash
# docker-compose.yml, profile "scale": run once by the postgres:17 image's entrypoint when it
# initialises the primary's data folder (/docker-entrypoint-initdb.d). It makes the replication
# role, lets it connect for replication, and turns on synchronous replication for the standbys
# pg-replica-a and pg-replica-b (their application_name).
set -eo pipefail

psql -v ON_ERROR_STOP=1 -v pw="$REPLICATION_PASSWORD" --username "$POSTGRES_USER" --dbname postgres <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'pw';
-- ALTER SYSTEM, not `postgres -c` in the command: the entrypoint starts its temporary server
-- with the command's settings, and this script's own commits would then wait for a standby
-- that cannot exist yet. postgresql.auto.conf is read when the real server starts.
-- docs/scaling.md § "What a provider must configure": two standbys and ANY 1, so a commit (and
-- the MTA's 250 after it) is on the primary and one standby, and one standby down stalls nothing.
ALTER SYSTEM SET synchronous_standby_names = 'ANY 1 (replica_a, replica_b)';
ALTER SYSTEM SET synchronous_commit = 'on';
SQL

# The image's pg_hba.conf has `host all all all scram-sha-256`, and "all" does not match the
# replication pseudo-database.
echo 'host replication replicator all scram-sha-256' >>"$PGDATA/pg_hba.conf"
