"""`netqos decode FILE... -o OUT.parquet`: decode captures to the packets schema without Spark."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("decode", help="decode pcap/pcapng files to a Parquet table (no Spark)")
    p.add_argument("files", nargs="+", type=Path, help="capture files")
    p.add_argument("-o", "--output", type=Path, required=True, help="output .parquet file")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from netqos.decode.export import decode_to_parquet

    report = decode_to_parquet(args.files, args.output, progress=not args.no_progress and sys.stderr.isatty())
    for failure in report.failures:
        print(f"netqos decode: {failure}", file=sys.stderr)
    print(
        f"{report.packets} packets from {report.files_ok}/{len(args.files)} files -> {args.output}",
        file=sys.stderr,
    )
    return 1 if report.failures else 0
