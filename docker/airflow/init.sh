#!/usr/bin/env bash
# One-shot `airflow-init` of docker/compose.yaml: migrate the metadata database, then write the SimpleAuthManager
# passwords file (users admin and viewer) from the environment, so the api-server does not invent passwords.
# The connections spark_default and netqos_s3 are AIRFLOW_CONN_* variables of every component (as in
# `netqos airflow up`): no credentials in the metadata database.
set -euo pipefail
: "${AIRFLOW_ADMIN_PASSWORD:?set AIRFLOW_ADMIN_PASSWORD in docker/.env}"
: "${AIRFLOW_VIEWER_PASSWORD:?set AIRFLOW_VIEWER_PASSWORD in docker/.env}"
: "${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE:?}"

airflow db migrate

# The single-slot writer pools the DAGs' tasks name (one writer per Delta table; docs/deploy.md).
python - <<'PY'
import subprocess

from netqos.orchestration.defaults import LAKE_POOLS

for name, description in LAKE_POOLS.items():
    subprocess.run(["airflow", "pools", "set", name, "1", description], check=True)
PY

umask 077
python - <<'PY'
import json
import os
from pathlib import Path

path = Path(os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
path.parent.mkdir(parents=True, exist_ok=True)
users = {"admin": os.environ["AIRFLOW_ADMIN_PASSWORD"], "viewer": os.environ["AIRFLOW_VIEWER_PASSWORD"]}
tmp = path.with_suffix(".tmp")
tmp.write_text(json.dumps(users) + "\n")
tmp.replace(path)
PY
echo "airflow-init: database migrated, writer pools set, passwords file written"
