"""What every Spark job's main() shares: common options, how they override Settings, and the session around run()."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from netqos.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

T = TypeVar("T")


def utc_time(text: str) -> datetime:
    """argparse type: an ISO time; a time without an offset is UTC."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def in_session(settings: Settings, app_name: str, body: Callable[[SparkSession], T]) -> tuple[T, dict[str, float]]:
    """Build the session, run `body`, stop the session; returns body's result and the start-up / job seconds."""
    from netqos.spark.session import build_spark

    started = time.monotonic()
    spark = build_spark(settings, app_name=app_name)
    up = time.monotonic()
    try:
        result = body(spark)
    finally:
        spark.stop()
    return result, {"spark start-up": up - started, "job": time.monotonic() - up}


def default_run_id() -> str:
    """Names a run's quarantine rows and quality records when no DAG passes its run_id."""
    return "manual__" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def add_run_id_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run-id", help="run id for quarantine rows and quality records (a DAG passes its run_id)")


def add_warehouse_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--warehouse", type=Path, help="warehouse dir (default: settings.lake.warehouse_dir)")


def settings_from_args(args: argparse.Namespace, settings: Settings) -> Settings:
    if getattr(args, "sensor", None):
        settings = settings.model_copy(update={"sensor_id": args.sensor})
    if getattr(args, "warehouse", None):
        lake = settings.lake.model_copy(update={"warehouse_dir": args.warehouse.resolve()})
        settings = settings.model_copy(update={"lake": lake})
    return settings
