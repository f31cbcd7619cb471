"""`netqos inspect`: from an anomaly, a flow or a time range to the packets behind it."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("inspect", help="from an anomaly, a flow or a time range to the packets behind it")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    raise NotImplementedError("netqos inspect is being built (issue 7)")
