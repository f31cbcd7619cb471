"""Command-line options every Spark job shares, and how they override Settings."""

from __future__ import annotations

import argparse
from pathlib import Path

from netqos.settings import Settings


def add_warehouse_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--warehouse", type=Path, help="warehouse dir (default: settings.lake.warehouse_dir)")


def settings_from_args(args: argparse.Namespace, settings: Settings) -> Settings:
    if getattr(args, "sensor", None):
        settings = settings.model_copy(update={"sensor_id": args.sensor})
    if getattr(args, "warehouse", None):
        lake = settings.lake.model_copy(update={"warehouse_dir": args.warehouse.resolve()})
        settings = settings.model_copy(update={"lake": lake})
    return settings
