#!/usr/bin/env bash
# Runs once, when the postgres volume is empty (the image's /docker-entrypoint-initdb.d/): one role and one database
# each for Airflow's metadata, MLflow's tracking store and the Hive metastore of the Delta tables. The passwords
# come from the environment and reach psql as variables (:'pw'), never interpolated into SQL text.
set -euo pipefail

create() {  # create ROLE_AND_DATABASE PASSWORD
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -v name="$1" -v pw="$2" <<'SQL'
SET password_encryption = 'scram-sha-256';
CREATE ROLE :"name" LOGIN PASSWORD :'pw';
CREATE DATABASE :"name" OWNER :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
}

create airflow "${AIRFLOW_DB_PASSWORD:?}"
create mlflow "${MLFLOW_DB_PASSWORD:?}"
create metastore "${METASTORE_DB_PASSWORD:?}"
