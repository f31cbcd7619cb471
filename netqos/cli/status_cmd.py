"""`netqos status`: the last heartbeat of every sensor in the landing bucket."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from netqos.cli.capture_settings import add_landing_args, load_settings


def register(sub: Any) -> None:
    p = sub.add_parser("status", help="health of every capture agent (heartbeats in the landing bucket)")
    add_landing_args(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from netqos.capture.health import read_all
    from netqos.storage.s3 import s3_client

    settings = load_settings(args)
    beats = read_all(s3_client(settings.s3), settings.s3.landing_bucket, settings.capture.prefix)
    table = Table(title=f"capture agents in s3://{settings.s3.landing_bucket}/{settings.capture.prefix}")
    columns = ("sensor", "host", "heartbeat age", "packets", "kernel drops", "pending", "upload lag", "evicted",
               "last error")  # fmt: skip
    for c in columns:
        table.add_column(c, overflow="fold")
    now = time.time()
    for h in beats:
        table.add_row(
            h["sensor_id"], h["capture_host"], f"{now - h['updated_at']:.0f}s", str(h["packets_captured"]),
            f"{h['kernel_dropped']}+{h['kernel_if_dropped']}", f"{h['files_pending']} ({h['bytes_pending']} B)",
            f"{h['upload_lag_s']:.0f}s", str(h["evicted_files"]), h.get("last_error") or "",
        )  # fmt: skip
    console = Console() if sys.stdout.isatty() else Console(width=240)  # piped output: no wrapped columns
    console.print(table if beats else "no heartbeats yet")
    return 0
