"""
### netqos_ingest

Every 10 minutes: land new capture objects from the landing bucket into Delta and featurize them.

`ingest` (one Spark task, three stages in one session: parse → packets + ingest ledger, at most `max_files`
objects landed before the run's data interval end; build_flows → tcp_analysis + flows, stitched across rotated
files; qos_windows) → `validate` → `score`. One session, not three tasks: the JVM, Python worker and Delta log
start-up is most of a small batch's latency (benchmarks/ingest_latency.py); the task log has each stage's time.
A short schedule rather than a sensor: the ledger makes each run pick up exactly the objects not yet ingested.
Two runs may be active at once (one scores while the next ingests), but each writing task takes the one slot of
its table's pool (netqos_lake_ingest / _anomalies / _alerts): one writer per table, so the ledger a run reads is
never being written by another run. Every stage is idempotent: clearing a task reruns it to the
same tables. Spark runs through spark-submit on the `spark_default` connection's master; S3 comes from the
`netqos_s3` connection.

Quality gate: each stage validates its rows (Great Expectations suites in `expectations/`) before writing.
Capture files that fail go to the `quarantine_*` tables with the failed expectations, their ledger rows become
`quarantined`, and the clean files in the same run go on into every table. `validate` then publishes Data Docs
and fails the run explicitly (no retry), which also holds back `score`: a person looks first. Scoring takes every
window not yet scored by the champion, so the next run scores the clean windows this one held back.

`score` (jobs/spark/score_windows.py): the MLflow model with alias `champion` scores those windows into
`anomalies` (idempotent per window and model version). Without a champion it logs so and succeeds.

`alerts` (jobs/spark/alerts.py, docs/alerts.md): the KPI rules of `[alerts]` and the model's anomalies over the
last day of windows raise alerts, deduplicated per episode and rate limited, into the `alerts` table and to the
notifiers: a chat webhook (URL = password of connection `netqos_alerts_webhook`) and e-mail through Airflow's
SmtpNotifier (connection `[alerts] smtp_conn_id`, recipients `[alerts] email_to`).
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag, task

from netqos.orchestration.defaults import (
    ALERTS_POOL,
    ANOMALIES_POOL,
    DEFAULT_ARGS,
    INGEST_POOL,
    START_DATE,
    table_asset,
)
from netqos.orchestration.spark_tasks import alert_env, spark_job
from netqos.settings import Settings


@dag(
    dag_id="netqos_ingest",
    schedule=timedelta(minutes=10),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=2,
    default_args=DEFAULT_ARGS,
    tags=["netqos", "ingest", "spark"],
    doc_md=__doc__,
    params={"landing_uri": "s3://netqos-landing/", "max_files": 500, "sensor": "landing"},
)
def netqos_ingest() -> None:
    ingest = spark_job(
        "ingest",
        "ingest",
        ["{{ params.landing_uri }}", "--sensor", "{{ params.sensor }}", "--max-files", "{{ params.max_files }}",
         "--landed-before", "{{ data_interval_end.isoformat() }}", "--run-id", "{{ run_id }}"],
        outlets=["packets", "ingest_ledger", "tcp_analysis", "flows", "qos_windows"],
        pool=INGEST_POOL,
    )  # fmt: skip

    @task(outlets=[table_asset("quarantine")])
    def validate(run_id: str | None = None) -> str:
        from netqos.orchestration.steps import check_quality

        return check_quality(str(run_id))

    checked = validate()
    score = spark_job("score", "score_windows", ["--run-id", "{{ run_id }}"], outlets=["anomalies"],
                      pool=ANOMALIES_POOL)  # fmt: skip
    # A day of windows back from the interval: files land late and a red run skips this task; the alerts table
    # dedups, so windows seen again raise nothing twice.
    alerts = spark_job(
        "alerts",
        "alerts",
        ["--since", "{{ (data_interval_start - macros.timedelta(days=1)).isoformat() }}", "--run-id", "{{ run_id }}"],
        inlets=["qos_windows", "anomalies"],
        outlets=["alerts"],
        env=alert_env(Settings().alerts.smtp_conn_id),
        pool=ALERTS_POOL,
    )

    ingest >> checked >> score >> alerts


netqos_ingest()
