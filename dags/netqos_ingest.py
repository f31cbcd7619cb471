"""
### netqos_ingest

Every 10 minutes: land new capture objects from the landing bucket into Delta and featurize them.

`parse` (packets + ingest ledger, at most `max_files` objects landed before the run's data interval end) →
`build_flows` (tcp_analysis + flows, stitched across rotated files) → `qos_windows` → `score`.
A short schedule rather than a sensor: the ledger makes each run pick up exactly the objects not yet ingested,
and `max_active_runs=1` keeps one writer per table. Every step is idempotent: clearing a task reruns it to the
same tables. Spark tasks run through spark-submit on the `spark_default` connection's master; S3 comes from the
`netqos_s3` connection.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag, task

from netqos.orchestration.defaults import DEFAULT_ARGS, START_DATE
from netqos.orchestration.spark_tasks import spark_job


@dag(
    dag_id="netqos_ingest",
    schedule=timedelta(minutes=10),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["netqos", "ingest", "spark"],
    doc_md=__doc__,
    params={"landing_uri": "s3://netqos-landing/", "max_files": 500, "sensor": "landing"},
)
def netqos_ingest() -> None:
    parse = spark_job(
        "parse",
        "parse_pcaps",
        ["{{ params.landing_uri }}", "--sensor", "{{ params.sensor }}", "--max-files", "{{ params.max_files }}",
         "--landed-before", "{{ data_interval_end.isoformat() }}"],
        outlets=["packets", "ingest_ledger"],
    )  # fmt: skip
    flows = spark_job("build_flows", "build_flows", outlets=["tcp_analysis", "flows"])
    windows = spark_job("qos_windows", "qos_windows", outlets=["qos_windows"])

    @task
    def score(data_interval_start: str | None = None, data_interval_end: str | None = None) -> str:
        from netqos.orchestration.steps import score_windows

        return score_windows(str(data_interval_start), str(data_interval_end))

    parse >> flows >> windows >> score()


netqos_ingest()
