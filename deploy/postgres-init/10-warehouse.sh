#!/bin/bash
# Runs once, when the postgres service starts on an empty volume: the warehouse gets its own role and database
# beside Airflow's metadata database (the schema itself is created by Pantau's migrations on first use).
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v warehouse_password="$WAREHOUSE_PASSWORD" <<'SQL'
CREATE ROLE pantau LOGIN PASSWORD :'warehouse_password';
CREATE DATABASE pantau OWNER pantau;
SQL
