"""`netqos report`: the nightly QoS report for one day (HTML, CSV, JSON)."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("report", help="the nightly QoS report for one day (HTML, CSV, JSON)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    raise NotImplementedError("netqos report is being built (issue 7)")
