"""`netqos models train|promote|rollback|list|score`: the QoS anomaly models in MLflow (docs/models.md)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("models", help="train, promote, roll back and score the QoS anomaly models (MLflow)")
    m = p.add_subparsers(dest="models_command", required=True)

    t = m.add_parser("train", help="train on qos_windows (or lab runs), log to MLflow, register as challenger")
    t.add_argument("--lab-runs", type=Path, nargs="+", help="train on these lab run folders instead of the lake")
    t.add_argument(
        "--labels",
        type=Path,
        nargs="+",
        default=[],
        help="lab run folders whose labels.json labels the lake sensor of the same name",
    )
    t.add_argument("--test-runs", help="comma-separated runs/sensors held out for evaluation (default: latest)")
    t.add_argument("--window", type=int, help="window length in seconds (default: models.window_s)")
    t.add_argument("--detectors", help="comma-separated detectors (default: models.detectors)")
    t.add_argument("--no-register", action="store_true", help="log the runs but register nothing")
    t.add_argument("--warehouse", type=Path, help="warehouse dir (default: settings.lake.warehouse_dir)")
    t.set_defaults(run=train)

    pr = m.add_parser("promote", help="move alias champion to the challenger (or --version)")
    pr.add_argument("--version", help="model version to promote (default: the one with alias challenger)")
    pr.add_argument(
        "--policy",
        action="store_true",
        help="only if it beats the champion by models.promote_margin on the same evaluation set",
    )
    pr.set_defaults(run=promote)
    rb = m.add_parser("rollback", help="move alias champion back to the previous champion")
    rb.set_defaults(run=rollback)
    ls = m.add_parser("list", help="versions, aliases and key metrics of the registered model")
    ls.set_defaults(run=list_versions)
    ev = m.add_parser("evaluate", help="compare the windows a model flagged in `anomalies` with lab labels")
    ev.add_argument("--labels", type=Path, nargs="+", required=True, help="lab run folders (sensor = folder name)")
    ev.add_argument("--version", help="model version (default: the champion)")
    ev.add_argument("--warehouse", type=Path, help="warehouse dir (default: settings.lake.warehouse_dir)")
    ev.set_defaults(run=evaluate_scored)
    sc = m.add_parser("score", help="score unscored qos_windows with the champion (jobs/spark/score_windows.py)")
    sc.add_argument("--warehouse", type=Path, help="warehouse dir (default: settings.lake.warehouse_dir)")
    sc.add_argument("--alias", default="champion")
    sc.set_defaults(run=score)


def _settings(args: argparse.Namespace) -> Any:
    from netqos.jobs.job_args import settings_from_args
    from netqos.settings import get_settings

    return settings_from_args(args, get_settings())


def train(args: argparse.Namespace) -> int:
    from rich.console import Console

    from netqos.ml.train import train_and_report

    settings = _settings(args)
    return train_and_report(
        settings,
        Console(width=140),  # tables stay readable when piped to a log
        lab_runs=args.lab_runs,
        label_runs=args.labels,
        test_runs=args.test_runs.split(",") if args.test_runs else None,
        window_s=args.window,
        detectors=args.detectors.split(",") if args.detectors else None,
        register=not args.no_register,
    )


def promote(args: argparse.Namespace) -> int:
    from netqos.ml import registry

    settings = _settings(args)
    try:
        result = registry.promote(registry.configure(settings), settings, version=args.version, policy=args.policy)
    except registry.RegistryError as exc:
        print(f"netqos models promote: {exc}")
        return 1
    print(result.reason)
    return 0 if result.promoted or not args.policy else 2


def rollback(args: argparse.Namespace) -> int:
    from netqos.ml import registry

    settings = _settings(args)
    try:
        result = registry.rollback(registry.configure(settings), settings)
    except registry.RegistryError as exc:
        print(f"netqos models rollback: {exc}")
        return 1
    print(f"champion is version {result.champion.version if result.champion else '-'} again ({result.reason})")
    return 0


def list_versions(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from netqos.ml import registry

    settings = _settings(args)
    rows = registry.describe(registry.client(settings), settings)
    table = Table(title=f"{settings.models.registered_name} @ {registry.tracking_uri(settings)}")
    for col in ("version", "aliases", "detector", "overall F1", "run id"):
        table.add_column(col)
    for r in rows:
        f1 = "-" if r["overall_f1"] is None else f"{r['overall_f1']:.3f}"
        table.add_row(r["version"], ", ".join(r["aliases"]), r["detector"], f1, r["run_id"])
    Console().print(table)
    return 0


def evaluate_scored(args: argparse.Namespace) -> int:
    from rich.console import Console

    from netqos.jobs.job_args import in_session
    from netqos.ml.console import print_evaluation
    from netqos.ml.judge import judge, scored_rows

    settings = _settings(args)
    sensors = [d.name for d in args.labels]
    try:
        rows, _ = in_session(settings, "netqos-models-evaluate",
                             lambda s: scored_rows(s, settings, sensors, args.version))  # fmt: skip
        evaluation, windows = judge(rows, args.labels)
    except ValueError as exc:
        print(f"netqos models evaluate: {exc}")
        return 1
    version = args.version or "champion"
    print_evaluation(
        Console(width=140), f"{settings.models.registered_name} {version}: {windows} scored windows", evaluation
    )
    return 0


def score(args: argparse.Namespace) -> int:
    from netqos.jobs.score_windows import main

    argv = ["--alias", args.alias] + (["--warehouse", str(args.warehouse)] if args.warehouse else [])
    return main(argv)
