"""`netqos report`: the QoS report of one UTC day (HTML with charts, CSV, JSON) and the index of all reports."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("report", help="the nightly QoS report for one day (HTML, CSV, JSON)")
    when = p.add_mutually_exclusive_group(required=True)
    when.add_argument("--date", type=date.fromisoformat, help="UTC day, YYYY-MM-DD")
    when.add_argument("--latest", action="store_true", help="the latest day with traffic")
    p.add_argument("--sensor", action="append", default=[], help="only this sensor (repeatable)")
    p.add_argument("--out", type=Path, help="reports folder (default: report.reports_dir)")
    p.add_argument("--warehouse", type=Path, help="warehouse dir (default: settings.lake.warehouse_dir)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from netqos.jobs.job_args import settings_from_args
    from netqos.jobs.nightly_report import describe
    from netqos.jobs.nightly_report import run as run_report
    from netqos.report.collect import latest_day
    from netqos.settings import get_settings
    from netqos.spark.session import build_spark

    settings = settings_from_args(args, get_settings())
    if args.out:
        settings = settings.model_copy(update={"report": settings.report.model_copy(update={"reports_dir": args.out})})
    console = Console(stderr=True)
    with console.status("starting Spark"):
        spark = build_spark(settings, app_name="netqos-report")
    try:
        day = args.date
        if args.latest:
            day = latest_day(spark, settings, tuple(args.sensor))
            if day is None:
                console.print(f"no qos_windows in {settings.lake.database}: nothing to report (run `make demo`?)")
                return 1
        with console.status(f"reporting {day}"):
            data, published = run_report(spark, settings, day, args.sensor)
    finally:
        spark.stop()
    print(describe(data, published))
    print(f"index: {published.index}")
    return 0
