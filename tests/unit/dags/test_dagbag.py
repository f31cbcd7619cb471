"""The DAG files parse in a real Airflow DagBag (in a subprocess with its own AIRFLOW_HOME), stay thin and keep
secrets out: every DAG has tags, retries >= 2 and docs; parsing imports no Spark, NumPy, pandas, GX or MLflow;
S3 credentials reach the Spark jobs only as connection templates rendered at run time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.unit, pytest.mark.timeout(300)]

DAGS = Path(__file__).resolve().parents[3] / "dags"
HEAVY = ("pyspark", "numpy", "pandas", "great_expectations", "numba", "pyarrow", "mlflow", "sklearn")
PROBE = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1], safe_mode=False)
out = {"errors": {k: str(v) for k, v in bag.import_errors.items()},
       "heavy": [m for m in sys.argv[2:] if m in sys.modules], "dags": {}}
for d in bag.dags.values():
    tasks = {}
    for t in d.tasks:
        tasks[t.task_id] = {"retries": t.retries, "pool": t.pool,
                            "outlets": sorted(getattr(a, "uri", str(a)) for a in t.outlets),
                            "type": type(t).__name__, "trigger_rule": str(t.trigger_rule),
                            "args": [str(a) for a in getattr(t, "application_args", None) or []],
                            "application": str(getattr(t, "application", "")),
                            "env": {k: str(v) for k, v in (getattr(t, "env_vars", None) or {}).items()},
                            "conf": {k: str(v) for k, v in (getattr(t, "conf", None) or {}).items()},
                            "jars": getattr(t, "jars", None), "driver_cp": getattr(t, "driver_class_path", None)}
    out["dags"][d.dag_id] = {"tags": sorted(d.tags), "doc": bool(d.doc_md), "owner": d.owner,
                             "max_active_runs": d.max_active_runs, "tasks": tasks}
print("JSON" + json.dumps(out))
"""


@pytest.fixture(scope="module")
def parsed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path_factory.mktemp("airflow")),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(DAGS), *HEAVY], env=env, capture_output=True, text=True, timeout=240
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("JSON"))
    return json.loads(line[4:])


def test_no_import_errors_and_every_dag_is_there(parsed: dict) -> None:
    assert parsed["errors"] == {}
    assert set(parsed["dags"]) == {"netqos_ingest", "netqos_train", "netqos_nightly_report", "netqos_maintenance"}


def test_every_dag_has_tags_docs_owner_and_retries(parsed: dict) -> None:
    for dag_id, d in parsed["dags"].items():
        assert "netqos" in d["tags"] and len(d["tags"]) >= 2, dag_id
        assert d["doc"] and d["owner"] == "netqos", dag_id
        # Only ingest overlaps its runs; its writers are serialised by pools (next test).
        assert d["max_active_runs"] == (2 if dag_id == "netqos_ingest" else 1), dag_id
        for task_id, t in d["tasks"].items():
            assert t["retries"] >= 2, (dag_id, task_id)


def test_each_lake_table_has_one_writer_pool(parsed: dict) -> None:
    """Every task that writes a lake table (outlets) of a DAG whose runs overlap, or that rewrites the ingest
    tables, holds the single-slot pool of those tables: two runs never write one table at once."""
    from netqos.orchestration.defaults import ALERTS_POOL, ANOMALIES_POOL, INGEST_POOL, LAKE_POOLS, table_uri

    ingest = parsed["dags"]["netqos_ingest"]["tasks"]
    assert ingest["ingest"]["pool"] == INGEST_POOL and table_uri("ingest_ledger") in ingest["ingest"]["outlets"]
    assert ingest["score"]["pool"] == ANOMALIES_POOL
    assert ingest["alerts"]["pool"] == ALERTS_POOL
    assert parsed["dags"]["netqos_maintenance"]["tasks"]["optimize_vacuum_expire"]["pool"] == INGEST_POOL
    writers: dict[str, set[str]] = {}
    for d in parsed["dags"].values():
        for t in d["tasks"].values():
            if t["pool"] in LAKE_POOLS:
                for uri in t["outlets"]:
                    writers.setdefault(uri, set()).add(t["pool"])
    assert all(len(pools) == 1 for pools in writers.values()), writers


def test_spark_tasks_read_the_jars_in_place(parsed: dict) -> None:
    """Jars on the class paths, not --jars: a cluster would copy the 680 MB AWS bundle per application and worker."""
    import os

    from netqos.jars import spark_jars
    from netqos.settings import Settings

    expected = os.pathsep.join(str(p) for p in spark_jars(Settings().spark.jars_dir))
    for dag in parsed["dags"].values():
        for t in dag["tasks"].values():
            if t["type"] == "SparkSubmitOperator":
                assert not t["jars"]
                assert t["driver_cp"] == expected and t["conf"]["spark.executor.extraClassPath"] == expected
                assert "postgresql" in t["driver_cp"]  # a PostgreSQL metastore's JDBC driver (DriverManager)


def test_parsing_imports_nothing_heavy(parsed: dict) -> None:
    assert parsed["heavy"] == []


def test_ingest_is_bounded_by_its_data_interval_and_takes_s3_from_the_connection(parsed: dict) -> None:
    tasks = parsed["dags"]["netqos_ingest"]["tasks"]
    assert list(tasks) == ["ingest", "validate", "score", "alerts"]
    # Quarantine rows and quality records are named by the run.
    assert "--run-id" in tasks["ingest"]["args"] and "{{ run_id }}" in tasks["ingest"]["args"]
    # A failed validation holds back scoring (and so fails the run: score is the leaf).
    assert tasks["score"]["trigger_rule"] in ("all_success", "TriggerRule.ALL_SUCCESS")
    args = tasks["ingest"]["args"]
    assert "--max-files" in args and "--landed-before" in args
    assert any("data_interval_end" in a for a in args)  # never now(): a rerun sees the same objects
    env = tasks["ingest"]["env"]
    assert env["NETQOS_S3__SECRET_ACCESS_KEY"] == "{{ conn.netqos_s3.password }}"
    assert env["NETQOS_S3__ACCESS_KEY_ID"] == "{{ conn.netqos_s3.login }}"


def test_no_credentials_in_dag_files() -> None:
    for path in DAGS.glob("*.py"):
        text = path.read_text().lower()
        for word in ("password=", "secret_access_key=", "aws_secret", "minioadmin"):
            assert word not in text, f"{path.name} contains {word!r}"


def test_scoring_and_training_are_spark_jobs_named_by_the_run(parsed: dict) -> None:
    score = parsed["dags"]["netqos_ingest"]["tasks"]["score"]
    assert score["type"] == "SparkSubmitOperator" and score["application"].endswith("jobs/spark/score_windows.py")
    assert score["args"] == ["--run-id", "{{ run_id }}"]  # anomalies rows name the run that scored them
    train = parsed["dags"]["netqos_train"]["tasks"]["train"]
    assert train["type"] == "SparkSubmitOperator" and train["application"].endswith("jobs/spark/train_models.py")
    assert "{{ params.labels }}" in train["args"]


def test_the_nightly_report_reports_the_day_before_the_run(parsed: dict) -> None:
    import jinja2
    from airflow.sdk.execution_time import macros

    report = parsed["dags"]["netqos_nightly_report"]["tasks"]["report"]
    assert report["type"] == "SparkSubmitOperator" and report["application"].endswith("jobs/spark/nightly_report.py")
    args = report["args"]
    day = args[args.index("--date") + 1]
    # the cron run of 2026-11-28 01:30 (ds = its logical date) reports 2026-11-27; a `day` param overrides that
    render = jinja2.Template(day).render
    assert render(ds="2026-11-28", macros=macros, params={"day": ""}) == "2026-11-27"
    assert render(ds="2026-11-28", macros=macros, params={"day": "2026-10-01"}) == "2026-10-01"


def test_alerts_follow_scoring_and_take_notifier_secrets_from_connections(parsed: dict) -> None:
    tasks = parsed["dags"]["netqos_ingest"]["tasks"]
    alerts = tasks["alerts"]
    assert alerts["type"] == "SparkSubmitOperator" and alerts["application"].endswith("jobs/spark/alerts.py")
    assert "--since" in alerts["args"] and "{{ run_id }}" in alerts["args"]
    # secrets are templates on connections (rendered at run time, masked in logs), never literal values
    assert "conn.get('netqos_alerts_webhook')" in alerts["env"]["NETQOS_ALERTS__WEBHOOK_URL"]
    assert "conn.get('smtp_default')" in alerts["env"]["AIRFLOW_CONN_SMTP_DEFAULT"]
