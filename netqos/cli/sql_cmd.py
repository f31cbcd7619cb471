"""`netqos sql`: run Spark SQL against the netqos catalog."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("sql", help="run Spark SQL against the netqos catalog")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    raise NotImplementedError("netqos sql is being built (issue 7)")
