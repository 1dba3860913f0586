#!/bin/sh
# One-shot (docker-compose.yml's temporal-schema): creates Temporal's two databases on PostgreSQL and
# brings their schemas to the version this admin-tools image ships (the same version as the server).
# Safe to run again: an existing database is kept, setup-schema leaves a versioned schema alone and
# update-schema applies only the versions not yet applied (a server upgrade runs it with the new
# admin-tools image before the new server starts).
set -eu

SCHEMA_ROOT=/etc/temporal/schema/postgresql/v12

sql_tool() {
    temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" "$@"
}

for store in "$DBNAME:temporal" "$VISIBILITY_DBNAME:visibility"; do
    db=${store%%:*}
    dir=$SCHEMA_ROOT/${store#*:}/versioned
    # CREATE DATABASE has no IF NOT EXISTS on PostgreSQL: a second run's refusal is expected, and a
    # real failure (wrong password, server down) stops the next command anyway.
    sql_tool --db "$db" create || echo "temporal-schema: database $db not created (it exists?)"
    sql_tool --db "$db" setup-schema -v 0.0
    sql_tool --db "$db" update-schema -d "$dir"
    echo "temporal-schema: $db is at the schema of $dir"
done
