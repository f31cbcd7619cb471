"""Arguments every netqos DAG shares, and the Assets the DAGs produce and consume."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum

OWNER = "netqos"
START_DATE = pendulum.datetime(2026, 1, 1, tz="UTC")
DEFAULT_ARGS: dict[str, Any] = {
    "owner": OWNER,
    "retries": 2,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
}
# Connections (defined in the Airflow UI, or as AIRFLOW_CONN_* environment variables): never credentials in code.
SPARK_CONN_ID = "spark_default"  # conn_type spark; host = master: local[*] or spark://host:7077
S3_CONN_ID = "netqos_s3"  # conn_type aws; login/password = keys, extra.endpoint_url for MinIO

# One writer per Delta table: each writing task runs in a pool of one slot, so runs of a DAG overlap (one run scores
# while the next ingests) but never write the same table at once. Created by `netqos airflow up` and compose's
# airflow-init; elsewhere: `airflow pools set <name> 1 "<description>"`.
INGEST_POOL = "netqos_lake_ingest"
ANOMALIES_POOL = "netqos_lake_anomalies"
ALERTS_POOL = "netqos_lake_alerts"
LAKE_POOLS = {
    INGEST_POOL: "single writer of packets, ingest_ledger, tcp_analysis, flows, qos_windows (ingest, maintenance)",
    ANOMALIES_POOL: "single writer of anomalies (score)",
    ALERTS_POOL: "single writer of alerts",
}

# Asset URIs: the Delta tables and outputs the DAGs update (the scheduler links producers and consumers).
TABLES = ("packets", "ingest_ledger", "tcp_analysis", "flows", "qos_windows", "quarantine")


def table_uri(table: str) -> str:
    return f"netqos://lake/{table}"


def table_asset(table: str) -> Any:
    from airflow.sdk import Asset

    return Asset(table_uri(table))
