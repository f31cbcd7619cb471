"""
### netqos_train

Weekly (Monday 02:00 UTC) and on demand: train the QoS anomaly models on `qos_windows` and register the best as
MLflow alias `challenger`. Promotion to `champion` stays a person's decision (MLflow UI or `netqos models
promote`). Until the model issue lands, the task logs that training is not implemented.
"""

from __future__ import annotations

from airflow.sdk import Asset, dag, task

from netqos.orchestration.defaults import DEFAULT_ARGS, START_DATE, table_uri


@dag(
    dag_id="netqos_train",
    schedule="0 2 * * 1",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["netqos", "ml", "mlflow"],
    doc_md=__doc__,
)
def netqos_train() -> None:
    @task(inlets=[Asset(table_uri("qos_windows"))])
    def train(data_interval_start: str | None = None, data_interval_end: str | None = None) -> str:
        from netqos.orchestration.steps import train_models

        return train_models(str(data_interval_start), str(data_interval_end))

    train()


netqos_train()
