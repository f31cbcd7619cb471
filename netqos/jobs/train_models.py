"""spark-submit entry of the training pipeline (netqos.ml.train): qos_windows -> MLflow runs -> `challenger`.

python jobs/spark/train_models.py [--warehouse DIR] [--labels DIR,DIR] [--test-runs a,b] [--no-register]

Spark only reads the qos_windows snapshot; fitting and evaluation run in the driver (windows are small: one row
per sensor and 10 s). The netqos_train DAG submits this; `netqos models train` runs the same pipeline in-process.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from netqos.jobs.job_args import add_warehouse_arg, settings_from_args
from netqos.observability.job_run import job_metrics
from netqos.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    from rich.console import Console

    from netqos.ml.train import train_and_report

    parser = argparse.ArgumentParser(prog="train_models", description=__doc__)
    add_warehouse_arg(parser)
    parser.add_argument("--labels", default="", help="comma-separated lab run folders labelling sensors")
    parser.add_argument("--test-runs", default="", help="comma-separated sensors held out (default: latest)")
    parser.add_argument("--detectors", default="", help="comma-separated detectors (default: models.detectors)")
    parser.add_argument("--no-register", action="store_true")
    args = parser.parse_args(argv)
    settings = settings_from_args(args, Settings())
    with job_metrics("train_models", settings) as m:
        code = train_and_report(
            settings,
            Console(width=140),  # fixed width: the tables stay readable in task logs
            label_runs=[Path(p) for p in args.labels.split(",") if p],
            test_runs=[r for r in args.test_runs.split(",") if r] or None,
            detectors=[d for d in args.detectors.split(",") if d] or None,
            register=not args.no_register,
        )
        if code:
            m.fail()
    return code


if __name__ == "__main__":
    sys.exit(main())
