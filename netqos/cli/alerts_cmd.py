"""`netqos alerts`: evaluate alert rules and notify."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("alerts", help="evaluate alert rules and notify")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    raise NotImplementedError("netqos alerts is being built (issue 7)")
