"""Entry point: one sub-command per module in netqos.cli; heavy imports happen inside each command."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from netqos import __version__
from netqos.cli import (
    airflow_cmd,
    alerts_cmd,
    analyze_cmd,
    capture_cmd,
    cluster_cmd,
    decode_cmd,
    demo_cmd,
    flows_cmd,
    inspect_cmd,
    lab_cmd,
    models_cmd,
    report_cmd,
    sql_cmd,
    status_cmd,
    upload_cmd,
)

COMMANDS = (
    decode_cmd,
    demo_cmd,
    analyze_cmd,
    flows_cmd,
    capture_cmd,
    upload_cmd,
    status_cmd,
    airflow_cmd,
    cluster_cmd,
    lab_cmd,
    models_cmd,
    report_cmd,
    alerts_cmd,
    sql_cmd,
    inspect_cmd,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="netqos", description=__doc__)
    parser.add_argument("--version", action="version", version=f"netqos {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(message)s")
    try:
        result: int = args.run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return result
