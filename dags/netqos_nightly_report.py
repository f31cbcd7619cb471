"""
### netqos_nightly_report

Daily at 01:30 UTC, for the previous UTC day: the QoS report
(jobs/spark/nightly_report.py → netqos.report): `report.html` with embedded charts, `report.json` and one CSV per
section in the reports folder and the reports bucket, and the index page of every report. Scheduled after midnight
with a margin so the 10-minute ingest runs have covered the day; a late capture is picked up by clearing that day's
run (the report of a day is replaced, never duplicated). An empty or partial day is reported as such.

Params: `day` (YYYY-MM-DD) reports that day instead (a manual re-run of an old day); `sensors`: comma-separated
sensors to report (default: all).
"""

from __future__ import annotations

from airflow.sdk import dag

from netqos.orchestration.defaults import DEFAULT_ARGS, START_DATE
from netqos.orchestration.spark_tasks import spark_job


@dag(
    dag_id="netqos_nightly_report",
    schedule="30 1 * * *",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["netqos", "report"],
    doc_md=__doc__,
    params={"day": "", "sensors": ""},
)
def netqos_nightly_report() -> None:
    spark_job(
        "report",
        "nightly_report",
        # A cron schedule triggers at 01:30 of day D+1 (logical date = trigger time): the day reported is D.
        ["--date", "{{ params.day or macros.ds_add(ds, -1) }}", "--sensors", "{{ params.sensors }}"],
        inlets=["qos_windows", "flows", "anomalies", "ingest_ledger"],
    )


netqos_nightly_report()
