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
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

RESULT_PREFIX = "RESULT "


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
