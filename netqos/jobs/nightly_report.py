"""The nightly report job: one UTC day of the lake -> report.html (charts embedded), report.json and CSVs in the
reports folder (and bucket), plus the index page of every report. docs/reports.md.

extract (Spark SQL aggregations -> ReportData) -> transform (render, no Spark) -> load (publish).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

from netqos.jobs.job_args import add_warehouse_arg, in_session, settings_from_args
from netqos.observability.job_run import job_metrics
from netqos.report.model import ReportData
from netqos.report.publish import Published, publish
from netqos.report.render import render
from netqos.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def extract(spark: SparkSession, settings: Settings, day: date, sensors: Sequence[str] = (),
            now: datetime | None = None) -> ReportData:  # fmt: skip
    from netqos.report.collect import collect

    return collect(spark, settings, day, tuple(sensors), now=now)


def transform(data: ReportData) -> dict[str, bytes]:
    return render(data)


def load(settings: Settings, data: ReportData, files: dict[str, bytes]) -> Published:
    return publish(settings, data.name, files)


def run(spark: SparkSession, settings: Settings, day: date, sensors: Sequence[str] = (),
        now: datetime | None = None) -> tuple[ReportData, Published]:  # fmt: skip
    data = extract(spark, settings, day, sensors, now)
    return data, load(settings, data, transform(data))


def describe(data: ReportData, published: Published) -> str:
    where = str(published.html) + (f" and {published.s3_uri}" if published.s3_uri else "")
    flagged = sum(m.flagged for m in data.models)
    return (f"report {data.name}: {data.coverage.status} ({data.coverage.describe(data.day)}); "
            f"{len(data.sensors)} sensors, {flagged} anomalies; written to {where}")  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nightly_report", description="The QoS report of one UTC day.")
    parser.add_argument("--date", type=date.fromisoformat, required=True, help="UTC day, YYYY-MM-DD")
    parser.add_argument("--sensors", default="", help="comma-separated sensors (default: every sensor)")
    add_warehouse_arg(parser)
    args = parser.parse_args(argv)
    settings = settings_from_args(args, Settings())
    sensors = tuple(s.strip() for s in args.sensors.split(",") if s.strip())
    with job_metrics("nightly_report", settings):
        (data, published), _ = in_session(
            settings, "netqos-nightly-report", lambda s: run(s, settings, args.date, sensors)
        )
    print(describe(data, published))
    return 0


if __name__ == "__main__":
    sys.exit(main())
