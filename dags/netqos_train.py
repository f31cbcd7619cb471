"""
### netqos_train

Weekly (Monday 02:00 UTC) and on demand: train the QoS anomaly models on the `qos_windows` table
(jobs/spark/train_models.py → netqos.ml.train): every detector is logged to MLflow (params, per-kind metrics,
plots, the table version it read) and the best is registered as a new version with alias `challenger`.
Promotion to `champion` stays a person's decision (MLflow UI or `netqos models promote`); the scoring task of
netqos_ingest uses whatever `champion` points at.

Params: `labels` = lab run folders whose labels.json labels the sensor of the same name (then the supervised
detectors train and the evaluation has per-kind F1); `test_runs` = sensors held out (default: the latest).
"""

from __future__ import annotations

from airflow.sdk import dag

from netqos.orchestration.defaults import DEFAULT_ARGS, START_DATE
from netqos.orchestration.spark_tasks import spark_job


@dag(
    dag_id="netqos_train",
    schedule="0 2 * * 1",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["netqos", "ml", "mlflow"],
    doc_md=__doc__,
    params={"labels": "", "test_runs": ""},
)
def netqos_train() -> None:
    spark_job(
        "train",
        "train_models",
        ["--labels", "{{ params.labels }}", "--test-runs", "{{ params.test_runs }}"],
        inlets=["qos_windows"],
    )


netqos_train()
