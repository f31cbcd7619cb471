"""
### netqos_maintenance

Daily at 03:00 UTC: OPTIMIZE and VACUUM every Delta table, expire quarantined rows older than
`retention.quarantine_days`, and delete landed captures older than `retention.raw_capture_days` that the ingest
ledger has ingested. Cut-offs count back from the run's data interval end, so a rerun deletes the same things.
It takes the ingest pool's slot (it rewrites the ingest tables' files); a score or alerts MERGE that races its
OPTIMIZE fails with a Delta concurrent-modification error and is retried by Airflow, idempotently.
"""

from __future__ import annotations

from airflow.sdk import dag

from netqos.orchestration.defaults import DEFAULT_ARGS, INGEST_POOL, START_DATE
from netqos.orchestration.spark_tasks import spark_job


@dag(
    dag_id="netqos_maintenance",
    schedule="0 3 * * *",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["netqos", "maintenance", "spark"],
    doc_md=__doc__,
)
def netqos_maintenance() -> None:
    spark_job("optimize_vacuum_expire", "maintenance", ["--as-of", "{{ data_interval_end.isoformat() }}"],
              pool=INGEST_POOL)  # fmt: skip


netqos_maintenance()
