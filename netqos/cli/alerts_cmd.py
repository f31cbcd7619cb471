"""`netqos alerts [--since --until] [--dry-run]`: evaluate alert rules and notify; `netqos alerts list`: the table."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    from netqos.jobs.job_args import utc_time

    p = sub.add_parser("alerts", help="evaluate alert rules and anomalies, notify (docs/alerts.md); `list` shows them")
    p.add_argument("--since", type=utc_time, help="evaluate windows from this time on (ISO, UTC), minus lookback_s")
    p.add_argument("--until", type=utc_time, help="... up to this time (exclusive)")
    p.add_argument("--dry-run", action="store_true", help="decide and print; send nothing, write nothing")
    p.add_argument("--run-id", help="run id recorded on the rows (a DAG passes its run_id)")
    p.add_argument("--warehouse", type=Path, help="warehouse dir (default: settings.lake.warehouse_dir)")
    p.set_defaults(run=run)
    a = p.add_subparsers(dest="alerts_command")
    ls = a.add_parser("list", help="recent rows of the alerts table")
    ls.add_argument("--since", dest="list_since", type=utc_time, help="alerts of windows from this time on")
    ls.add_argument("--status", help="only this status (sent, deduplicated, rate_limited, failed)")
    ls.add_argument("--limit", type=int, default=50)
    ls.add_argument("--warehouse", dest="list_warehouse", type=Path, help="warehouse dir")
    ls.set_defaults(run=list_alerts)


def run(args: argparse.Namespace) -> int:
    from netqos.jobs.alerts import main

    argv: list[str] = []
    for flag, value in (("--since", args.since), ("--until", args.until), ("--run-id", args.run_id)):
        if value is not None:
            argv += [flag, value if isinstance(value, str) else value.isoformat()]
    if args.warehouse:
        argv += ["--warehouse", str(args.warehouse)]
    if args.dry_run:
        argv.append("--dry-run")
    return main(argv)


def list_alerts(args: argparse.Namespace) -> int:
    from pyspark.sql import functions as F
    from rich.console import Console
    from rich.table import Table

    from netqos.jobs.job_args import in_session, settings_from_args
    from netqos.lake.tables import ALERTS, ensure_tables
    from netqos.settings import get_settings

    warehouse = args.list_warehouse or args.warehouse
    settings = settings_from_args(argparse.Namespace(warehouse=warehouse), get_settings())
    columns = ["window_start", "severity", "kind", "status", "rule", "sensor_id", "message"]

    def fetch(spark: Any) -> list[Any]:
        ensure_tables(spark, settings, (ALERTS,))
        df = spark.table(ALERTS.qualified(settings))
        since = args.list_since or args.since
        if since is not None:
            df = df.where(F.col("window_start") >= F.lit(since))
        if args.status:
            df = df.where(F.col("status") == args.status)
        return list(df.orderBy(F.col("window_start").desc(), "alert_id").select(*columns).limit(args.limit).collect())

    rows, _ = in_session(settings, "netqos-alerts-list", fetch)
    table = Table(*columns, title=f"alerts ({len(rows)} most recent)")
    for r in rows:
        table.add_row(*(str(r[c]) for c in columns))
    Console(width=200).print(table)
    return 0
