"""Spark jobs as Airflow tasks: spark-submit of jobs/spark/<job>.py to the master of the `spark_default`
connection, with the S3 endpoint and keys taken from the `netqos_s3` connection at run time (templated into the
environment of spark-submit; Airflow masks them in logs)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from netqos.orchestration.defaults import S3_CONN_ID, SPARK_CONN_ID, table_asset

WEBHOOK_CONN_ID = "netqos_alerts_webhook"
REPO = Path(__file__).resolve().parents[2]
JOBS = REPO / "jobs" / "spark"


# NETQOS_S3__* for the driver; local-mode executors inherit them (clusters: spark.executorEnv, docs/capture.md).
def _conn(expr: str) -> str:
    """A Jinja expression on the S3 connection, rendered when the task runs (never at parse time)."""
    return "{{ conn." + S3_CONN_ID + "." + expr + " }}"


S3_ENV = {
    "NETQOS_S3__ENDPOINT_URL": _conn("extra_dejson.get('endpoint_url', '')"),
    "NETQOS_S3__REGION": _conn("extra_dejson.get('region_name', 'us-east-1')"),
    "NETQOS_S3__ACCESS_KEY_ID": _conn("login"),
    "NETQOS_S3__SECRET_ACCESS_KEY": _conn("password"),
}


def alert_env(smtp_conn_id: str) -> dict[str, str]:
    """Alert notifier secrets from Airflow connections, rendered at run time (Airflow masks them in logs): the
    webhook URL is the password of connection `netqos_alerts_webhook`; the SMTP connection reaches the driver as
    AIRFLOW_CONN_<ID> (spark-submit runs outside the task, where only environment connections resolve).
    A missing connection renders empty: that notifier is off."""
    return {
        "NETQOS_ALERTS__WEBHOOK_URL": "{% set c = conn.get('" + WEBHOOK_CONN_ID + "') %}{{ c.password if c else '' }}",
        f"AIRFLOW_CONN_{smtp_conn_id.upper()}": "{% set c = conn.get('" + smtp_conn_id + "') %}"
        "{{ c.get_uri() if c else '' }}",
    }


def spark_job(
    task_id: str,
    job: str,
    args: Sequence[str] = (),
    *,
    outlets: Sequence[str] = (),
    inlets: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    pool: str | None = None,
) -> Any:
    """A SparkSubmitOperator for jobs/spark/<job>.py; `outlets`/`inlets`: the tables it updates/reads (as Assets);
    `env`: more (templated) environment for spark-submit, on top of the worker's own and the S3 connection's;
    `pool`: the single-slot pool of the tables it writes (defaults.LAKE_POOLS)."""
    from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

    from netqos.jars import JarsMissingError, spark_jars
    from netqos.settings import Settings
    from netqos.spark.session import driver_java_options

    settings = Settings()
    # The Delta/S3A/JDBC jars on the driver's and the executors' class path, read where they are installed (the same
    # path on every node: `make jars`, or /opt/netqos/jars in the images). Not --jars: that copies every jar (the
    # 680 MB AWS SDK bundle too) into each executor's work dir for each application, and the JDBC driver of a
    # PostgreSQL metastore must be on the system class path anyway (DriverManager).
    try:
        class_path: str | None = os.pathsep.join(str(p) for p in spark_jars(settings.spark.jars_dir))
    except JarsMissingError:
        class_path = None  # the DAG still parses; the task fails with the job's own "run make jars" message
    conf = {
        "spark.ui.enabled": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.extraJavaOptions": driver_java_options(settings),
    }
    if class_path:
        conf["spark.executor.extraClassPath"] = class_path
    return SparkSubmitOperator(
        task_id=task_id,
        conn_id=SPARK_CONN_ID,
        # The pyspark wheel's launcher beside this interpreter (the connection's allow-list knows only bare names).
        spark_binary=str(Path(sys.executable).with_name("spark-submit")),
        application=str(JOBS / f"{job}.py"),
        application_args=list(args),
        driver_class_path=class_path,
        driver_memory=settings.spark.driver_memory,
        name=f"netqos-{task_id}",
        conf=conf,
        env_vars={**S3_ENV, **(env or {}), "PYSPARK_PYTHON": sys.executable, "PATH": os.environ.get("PATH", "")},
        outlets=[table_asset(t) for t in outlets],
        inlets=[table_asset(t) for t in inlets],
        pool=pool,  # None: Airflow's default_pool
    )
