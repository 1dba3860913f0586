#!/bin/sh
# Runs once, when the postgres volume is first initialised (docker-entrypoint-initdb.d): the
# platform's own role and database, apart from Temporal's (whose role is the server's superuser,
# since temporal-schema creates its databases). Changing these variables later changes nothing:
# alter the role by hand, or start from an empty volume.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v user="$PLATFORM_DB_USER" -v password="$PLATFORM_DB_PASSWORD" -v db="$PLATFORM_DB_NAME" <<'SQL'
CREATE ROLE :"user" LOGIN PASSWORD :'password';
CREATE DATABASE :"db" OWNER :"user";
SQL
