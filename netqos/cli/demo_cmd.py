"""`netqos demo`: the end-to-end job on embedded defaults (local Spark, local Delta warehouse, bundled samples)."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="decode the bundled sample captures into the local Delta warehouse")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from netqos.demo import run_demo
    from netqos.settings import get_settings

    return run_demo(get_settings())
