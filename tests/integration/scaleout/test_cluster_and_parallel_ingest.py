"""Scale-out on this machine, for real: `netqos airflow up` with the CeleryExecutor (Redis broker, two Celery
workers) and a Spark standalone cluster (master + two workers started with spark-class), every Spark task
submitted by Airflow's SparkSubmitOperator to spark://.

Two netqos_ingest runs are triggered at once, one through the REST API (allowed two files), one through the UI's
Trigger dialog in headless Chromium. They must overlap as runs while no two tasks write one table at the same time
(writer pools), and together ingest every one of the four landed captures once.
The tables they produce on the cluster (packets, tcp_analysis, flows, qos_windows, anomalies scored by the MLflow
champion) must hold the same rows as the same jobs run on local[2] over the same captures, in one batch.
"""

from __future__ import annotations

import shutil
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from airflow_ui import CHROMIUM, task_log, trigger_in_ui
from s3server import free_port
from shared_pcaps import SHARED_PCAPS

from netqos.orchestration.defaults import ANOMALIES_POOL, INGEST_POOL
from netqos.orchestration.local_airflow import (
    LANDING_BUCKET,
    Layout,
    LocalAirflowConfig,
    down,
    get_token,
    http_json,
    s3_client,
    up,
)
from netqos.orchestration.local_procs import Secrets, load_or_create_secrets
from netqos.orchestration.spark_cluster import master_state

pytestmark = [
    pytest.mark.integration, pytest.mark.spark, pytest.mark.slow, pytest.mark.timeout(2400),
    pytest.mark.skipif(not CHROMIUM.is_file(), reason="needs Debian's chromium (make tools)"),
]  # fmt: skip

DAG_ID = "netqos_ingest"
# Four small clean captures from different days, two sensors; uploaded oldest first, so `--max-files 2` cuts the
# same two batches for every run (the ingest takes new files oldest first).
CAPTURES = (
    ("edge1", "zeek-5-pings.pcap"),
    ("edge1", "dpkt-dns_icmp.pcap"),
    ("edge2", "zeek-get-to-ssh-server.pcap"),
    ("edge2", "dpkt-http.pcap"),
)
COMPARED = ("packets", "tcp_analysis", "flows", "qos_windows", "anomalies")
# Columns that name the run or the moment of the write, not the data.
VOLATILE = {"scored_at", "scoring_run_id", "ingested_at", "flows_at", "windows_at", "mtime"}
RUN_TIMEOUT = 1500.0


@dataclass
class Stack:
    config: LocalAirflowConfig
    secrets: Secrets

    def api(self, method: str, path: str, body: Any = None) -> Any:
        token = get_token(self.config.base_url, "admin", self.secrets.admin_password)
        return http_json(method, f"{self.config.base_url}/api/v2{path}", body, token=token, timeout=30)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    state = tmp_path_factory.mktemp("scaleout-state")
    config = LocalAirflowConfig(
        state_dir=state, api_port=free_port(), postgres_port=free_port(), minio_port=free_port(),
        mlflow_port=free_port(), executor="celery", celery_workers=2, redis_port=free_port(), spark_workers=2,
        spark_master_port=free_port(), spark_ui_port=free_port(), spark_worker_memory="1536m",
        schedules=False,  # only our two runs: a scheduled run would take files and the ingest pool's slot
    )  # fmt: skip
    try:
        started = time.monotonic()
        up(config, say=lambda m: print(f"[up +{time.monotonic() - started:5.1f}s] {m}"))
        secrets = load_or_create_secrets(Layout(state).secrets_file)
        s3 = s3_client(config, secrets)
        for sensor, name in CAPTURES:
            s3.upload_file(str(SHARED_PCAPS / name), LANDING_BUCKET, f"sensor={sensor}/{name}")
            time.sleep(1.1)  # S3 LastModified has one-second resolution: keep the order strict
        yield Stack(LocalAirflowConfig.load(state), secrets)
    finally:
        down(state, purge_db=True, say=print)


# --- the local[2] reference: the same jobs in the tests' local Spark session, on the same captures ---------------
@pytest.fixture(scope="module")
def reference(stack: Stack, spark: Any, settings_factory: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The four captures ingested in one local[2] batch, a model trained on them and promoted to champion (as a
    person does in the MLflow UI), then scoring. Returns the reference database's folder."""
    from mlflow import MlflowClient

    from netqos.jobs import ingest, score_windows
    from netqos.lake.tables import QOS_WINDOWS
    from netqos.ml.train import lake_dataset, lake_windows, train

    base = settings_factory("scaleout_reference")
    settings = base.model_copy(
        update={"models": base.models.model_copy(update={"tracking_uri": stack.config.mlflow_url})}
    )
    root = tmp_path_factory.mktemp("reference-captures")
    for sensor, name in CAPTURES:  # local copies under the same sensor=<id>/ key layout as the landing zone
        (root / f"sensor={sensor}").mkdir(exist_ok=True)
        shutil.copyfile(SHARED_PCAPS / name, root / f"sensor={sensor}" / name)
    ingest.run(spark, [str(p) for p in sorted(root.glob("sensor=*/*.pcap"))], settings, run_id="reference")
    # What the train job does, in this session (the job's own wrapper stops its session at the end).
    w = settings.models.window_s
    windows, version = lake_windows(spark, settings, w)
    trained = train(settings, lake_dataset(windows, w, QOS_WINDOWS.qualified(settings), version, ()))
    assert trained.registered is not None
    client = MlflowClient(tracking_uri=stack.config.mlflow_url)
    client.set_registered_model_alias(trained.registered.name, "champion", trained.registered.version)
    assert score_windows.run(spark, settings, "reference-score").scored > 0
    return settings.lake.warehouse_dir / f"{settings.lake.database}.db"


# --- two runs of the DAG at once, on the cluster, through Celery ---------------------------------------------
def _task_instances(stack: Stack, run_id: str) -> list[dict[str, Any]]:
    rid = urllib.parse.quote(run_id, safe="")
    tis: list[dict[str, Any]] = stack.api("GET", f"/dags/{DAG_ID}/dagRuns/{rid}/taskInstances")["task_instances"]
    return tis


def _ui_run_id(stack: Stack) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        runs = stack.api("GET", f"/dags/{DAG_ID}/dagRuns?run_type=manual")["dag_runs"]
        ours = [r for r in runs if r.get("triggered_by") == "ui"]
        if ours:
            return str(ours[0]["dag_run_id"])
        time.sleep(1)
    raise AssertionError("no manual run triggered from the UI appeared")


@pytest.fixture(scope="module")
def dag_runs(
    stack: Stack, reference: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, list[dict[str, Any]]]:
    """Two runs at once (the champion exists, so `score` scores): one through the REST API allowed two files, then
    one through the UI's Trigger dialog with the DAG's defaults. The REST run is older, so its ingest takes the
    pool's slot first and the two oldest captures; the UI run's ingest then takes the other two. Returns each run's
    task instances once both are done."""
    stack.api("PATCH", f"/dags/{DAG_ID}", {"is_paused": False})
    body = {"dag_run_id": "parallel-rest", "logical_date": datetime.now(UTC).isoformat(), "conf": {"max_files": 2}}
    stack.api("POST", f"/dags/{DAG_ID}/dagRuns", body)
    shots = tmp_path_factory.mktemp("scaleout-screenshots")
    trigger_in_ui(stack.config.base_url, stack.secrets.admin_password, DAG_ID, shots)
    run_ids = ["parallel-rest", _ui_run_id(stack)]
    deadline = time.monotonic() + RUN_TIMEOUT
    while True:
        runs = {r: stack.api("GET", f"/dags/{DAG_ID}/dagRuns/{urllib.parse.quote(r, safe='')}") for r in run_ids}
        if all(r["state"] in ("success", "failed") for r in runs.values()):
            break
        assert time.monotonic() < deadline, {r: v["state"] for r, v in runs.items()}
        time.sleep(5)
    result = {r: _task_instances(stack, r) for r in run_ids}
    token = get_token(stack.config.base_url, "admin", stack.secrets.admin_password)
    failed = {
        f"{r} {t['task_id']} ({t['state']})": task_log(stack.config.base_url, token, DAG_ID, r, t["task_id"],
                                                      t["try_number"])[-3000:]
        for r, tis in result.items() if runs[r]["state"] != "success" for t in tis if t["state"] == "failed"
    }  # fmt: skip
    assert not failed, f"runs failed: {failed}; logs in {Layout(stack.config.state_dir).logs / 'airflow'}"
    return result


def _span(ti: dict[str, Any]) -> tuple[datetime, datetime]:
    return datetime.fromisoformat(ti["start_date"]), datetime.fromisoformat(ti["end_date"])


def test_both_runs_ran_on_celery_workers_and_overlapped(dag_runs: dict[str, list[dict[str, Any]]]) -> None:
    tis = [t for run in dag_runs.values() for t in run]
    assert {t["state"] for t in tis} == {"success"}
    hosts = {t["hostname"] for t in tis}
    assert hosts, tis
    (a_start, a_end), (b_start, b_end) = (
        (min(_span(t)[0] for t in run), max(_span(t)[1] for t in run)) for run in dag_runs.values()
    )
    assert a_start < b_end and b_start < a_end, "the two runs did not overlap"


def test_no_two_tasks_wrote_one_table_at_once(dag_runs: dict[str, list[dict[str, Any]]]) -> None:
    for task_id, pool in (("ingest", INGEST_POOL), ("score", ANOMALIES_POOL)):
        a, b = (next(t for t in run if t["task_id"] == task_id) for run in dag_runs.values())
        assert a["pool"] == pool and b["pool"] == pool
        (a_start, a_end), (b_start, b_end) = _span(a), _span(b)
        assert a_end <= b_start or b_end <= a_start, f"two {task_id} tasks ran at once: {a} {b}"


def test_the_jobs_ran_on_the_standalone_cluster(stack: Stack, dag_runs: dict[str, list[dict[str, Any]]]) -> None:
    state = master_state(stack.config.cluster)
    assert sum(w["state"] == "ALIVE" for w in state["workers"]) == 2
    names = [a["name"] for a in state.get("completedapps", [])]
    print("applications the master ran:", names)
    assert len(names) >= 6, names  # ingest, score and alerts of each run (validate is a Python task)
    executors_dirs = list((stack.config.cluster.state_dir / "work").glob("worker-*/app-*/*"))
    assert {p.parts[-3] for p in executors_dirs} == {"worker-1", "worker-2"}, "executors did not run on both workers"


def _comparable(spark: Any, database_dir: Path, table: str) -> Any:
    """The table without the columns that name the run or the write time; source_file by name only."""
    from pyspark.sql import functions as F

    df = spark.read.format("delta").load(str(database_dir / table))
    if "source_file" in df.columns:  # s3://… on the cluster, a local copy for the reference: compare the names
        df = df.withColumn("source_file", F.element_at(F.split("source_file", "/"), -1))
    return df.select(*sorted(c for c in df.columns if c not in VOLATILE))


def test_cluster_tables_equal_the_local_run(
    spark: Any, stack: Stack, reference: Path, dag_runs: dict[str, list[dict[str, Any]]], manifest: dict[str, int]
) -> None:
    cluster = stack.config.warehouse / "netqos.db"
    packets = spark.read.format("delta").load(str(cluster / "packets")).count()
    assert packets == sum(manifest[name] for _, name in CAPTURES)  # every capture once: none lost, none twice
    ledger = spark.read.format("delta").load(str(cluster / "ingest_ledger"))
    assert sorted(r.path.rsplit("/", 1)[1] for r in ledger.collect()) == sorted(n for _, n in CAPTURES)
    assert {r.status for r in ledger.collect()} == {"ingested"}
    packets_df = spark.read.format("delta").load(str(cluster / "packets"))
    sources = {r.source_file for r in packets_df.select("source_file").distinct().collect()}
    assert sources == {f"s3://{LANDING_BUCKET}/sensor={s}/{n}" for s, n in CAPTURES}
    differ = {}
    for table in COMPARED:
        ours, theirs = _comparable(spark, cluster, table), _comparable(spark, reference, table)
        assert ours.columns == theirs.columns, table
        n_ours, n_theirs = ours.count(), theirs.count()
        assert n_ours, f"{table} is empty on the cluster"
        # exceptAll: a multiset difference, so a duplicated row differs too; nulls and NaNs compare equal
        only_ours, only_theirs = ours.exceptAll(theirs), theirs.exceptAll(ours)
        if n_ours != n_theirs or not only_ours.isEmpty() or not only_theirs.isEmpty():
            examples = [r.asDict() for r in only_ours.limit(1).collect() + only_theirs.limit(1).collect()]
            differ[table] = f"{n_ours} vs {n_theirs} rows; e.g. cluster / local: {examples}"
    assert not differ, differ
