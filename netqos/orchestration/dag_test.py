"""Run one DAG in-process with Airflow's dag.test() and print its outcome as JSON (tests, benchmarks, demos):

    python -m netqos.orchestration.dag_test dags/netqos_ingest.py 2026-11-27T16:00:00+00:00 [--conf '{"max_files": 5}']

Needs a migrated metadata DB in $AIRFLOW_HOME and the DAG file inside $AIRFLOW__CORE__DAGS_FOLDER (dag.test()
serializes the configured bundle, not the object in memory). The last stdout line is `RESULT {json}`: run state,
run id, and per task its state, start, end and duration in seconds.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

RESULT_PREFIX = "RESULT "
REPO = Path(__file__).resolve().parents[2]


def test_env(
    root: Path,
    *,
    s3_endpoint: str,
    s3_access_key: str,
    s3_secret_key: str,
    spark_master: str = "local[*]",
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Environment for dag.test() runs in a scratch folder: AIRFLOW_HOME and the Delta warehouse under `root`, the
    repo's dags/, and the two connections the DAGs use. S3 reaches the jobs only through the connection."""
    s3 = {
        "conn_type": "aws",
        "login": s3_access_key,
        "password": s3_secret_key,
        "extra": {"endpoint_url": s3_endpoint, "region_name": "us-east-1"},
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETQOS_S3__", "AIRFLOW", "MLFLOW_"))}
    env.update(
        AIRFLOW_HOME=str(root / "airflow"),
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW_CONN_NETQOS_S3=json.dumps(s3),
        AIRFLOW_CONN_SPARK_DEFAULT=json.dumps({"conn_type": "spark", "host": spark_master}),
        NETQOS_LAKE__WAREHOUSE_DIR=str(root / "lake" / "warehouse"),
        # A scratch MLflow store: the runs must never read or write the user's models.
        NETQOS_MODELS__TRACKING_URI=f"sqlite:///{root / 'mlflow.db'}",
        **(extra or {}),
    )
    return env


def migrate(env: Mapping[str, str]) -> None:
    """`airflow db migrate` for the env's AIRFLOW_HOME (dag.test() needs a migrated metadata DB)."""
    airflow = str(Path(sys.executable).with_name("airflow"))
    proc = subprocess.run([airflow, "db", "migrate"], env=dict(env), capture_output=True, text=True, timeout=600)
    if proc.returncode:
        raise RuntimeError(f"airflow db migrate failed ({proc.returncode}):\n{proc.stderr[-3000:]}")


def run_subprocess(env: Mapping[str, str], dag_file: Path, logical_date: datetime, timeout: float = 1800) -> Any:
    """This module's main() in a fresh interpreter (Airflow reads AIRFLOW_HOME once per process); the result dict
    plus `log`, the run's whole output. Raises when the run printed no result."""
    proc = subprocess.run(
        [sys.executable, "-m", "netqos.orchestration.dag_test", str(dag_file), logical_date.isoformat()],
        env=dict(env), capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT_PREFIX)]
    if not lines:
        raise RuntimeError(f"dag.test() printed no result (rc {proc.returncode}):\n{proc.stderr[-6000:]}")
    result: dict[str, Any] = json.loads(lines[-1][len(RESULT_PREFIX) :])
    result["log"] = proc.stdout + proc.stderr
    return result


def load_dag(dag_file: Path) -> Any:
    """The single DAG a netqos DAG file defines (the module-level call of its @dag function)."""
    from airflow.sdk import DAG

    spec = importlib.util.spec_from_file_location(f"_dag_{dag_file.stem}", dag_file)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {dag_file}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dags = [v for v in vars(module).values() if isinstance(v, DAG)]
    if not dags:  # netqos DAG files call their @dag function without keeping the object
        dags = [v() for k, v in vars(module).items() if k == dag_file.stem and callable(v)]
    if len(dags) != 1:
        raise ValueError(f"{dag_file} must define exactly one DAG, found {len(dags)}")
    return dags[0]


def run(dag_file: Path, logical_date: datetime, conf: dict[str, Any] | None = None) -> dict[str, Any]:
    dag_run = load_dag(dag_file).test(logical_date=logical_date, run_conf=conf)
    tasks = {}
    for ti in sorted(dag_run.get_task_instances(), key=lambda t: (t.start_date is None, t.start_date)):
        tasks[ti.task_id] = {
            "state": str(ti.state),
            "start": ti.start_date.isoformat() if ti.start_date else None,
            "end": ti.end_date.isoformat() if ti.end_date else None,
            "seconds": ti.duration,
        }
    return {"state": str(dag_run.state), "run_id": dag_run.run_id, "tasks": tasks}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m netqos.orchestration.dag_test", description=__doc__)
    parser.add_argument("dag_file", type=Path)
    parser.add_argument("logical_date", type=datetime.fromisoformat)
    parser.add_argument("--conf", type=json.loads, default=None, help="run conf (params) as a JSON object")
    args = parser.parse_args(argv)
    result = run(args.dag_file.resolve(), args.logical_date, args.conf)
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0 if result["state"] == "success" else 1


if __name__ == "__main__":
    sys.exit(main())
