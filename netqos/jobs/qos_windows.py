"""Recompute `qos_windows` where build_flows changed `tcp_analysis`, incrementally.

    plan      feature_ledger rows without windows_at: per sensor, the hour that holds the earliest recompute_from_ns
    extract   packets joined with tcp_analysis (file_sha256, frame_no) of the sensor from that hour on
    transform per (sensor, hour), netqos.features.qos_windows() (window lengths divide an hour, so an hour's rows
              hold whole windows)
    load      replace the sensor's windows from that hour on, then set windows_at

Rerunning gives the same table: the windows are a function of the packets and tcp_analysis rows alone.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from netqos.jobs.job_args import add_run_id_arg, add_warehouse_arg, default_run_id, in_session, settings_from_args
from netqos.jobs.sensor_ranges import date_of_ns, range_predicate
from netqos.lake.tables import FEATURE_LEDGER, PACKETS, QOS_WINDOWS, TCP_ANALYSIS, ensure_tables
from netqos.observability.job_run import job_metrics
from netqos.observability.metrics import JobMetrics
from netqos.settings import Settings
from netqos.spark.arrow_udf import conform, grouped_arrow_udf

if TYPE_CHECKING:
    import pyarrow as pa

    from netqos.features.config import FeatureConfig

HOUR_NS = 3600 * 10**9
PACKET_COLUMNS = ("wire_len", "ip_proto", "tcp_flags", "l4_payload_len", "icmp_type", "wlan_retry", "rt_dbm_antsignal")


@dataclass(frozen=True)
class WindowPlan:
    start_ns: dict[str, int]  # sensor -> first hour to recompute
    files: list[str]  # feature_ledger rows this run settles


@dataclass(frozen=True)
class WindowReport:
    plan: WindowPlan
    windows: int


def plan_windows(spark: SparkSession, settings: Settings) -> WindowPlan:
    rows = (
        spark.table(FEATURE_LEDGER.qualified(settings))
        .where(F.col("windows_at").isNull())
        .select("file_sha256", "sensor_id", "recompute_from_ns")
        .collect()
    )
    start: dict[str, int] = {}
    for r in rows:
        hour = r.recompute_from_ns - r.recompute_from_ns % HOUR_NS
        start[r.sensor_id] = min(start.get(r.sensor_id, hour), hour)
    return WindowPlan(start, sorted(r.file_sha256 for r in rows))


def extract(spark: SparkSession, plan: WindowPlan, settings: Settings) -> DataFrame:
    """Packets + their tcp_analysis row, per sensor from the plan's hour on."""
    packets = (
        spark.table(PACKETS.qualified(settings))
        .where(range_predicate(plan.start_ns, "ts_ns", "capture_date"))
        .select("file_sha256", "frame_no", *PACKET_COLUMNS)
    )
    features = spark.table(TCP_ANALYSIS.qualified(settings)).where(
        range_predicate(plan.start_ns, "ts_ns", "capture_date")
    )
    return features.join(packets, ["file_sha256", "frame_no"]).withColumn(
        "hour", F.expr(f"(ts_ns - pmod(ts_ns, {HOUR_NS})) div {HOUR_NS}")
    )


def windows_udf(table: pa.Table, cfg: FeatureConfig, schema: StructType) -> pa.Table:
    from netqos.features.plugins import load_plugins
    from netqos.features.windows import qos_windows

    out = qos_windows(table, cfg.window_seconds, plugins=load_plugins(cfg.plugins, cfg))
    return conform(out, schema)


def transform(df: DataFrame, cfg: FeatureConfig) -> DataFrame:
    """extract() rows -> `qos_windows` rows (plus the enabled plugins' window columns)."""
    from netqos.jobs.build_flows import plugin_fields

    extra = plugin_fields(cfg, "window")
    base = [f for f in QOS_WINDOWS.schema.fields if f.name != "window_date"]
    schema = StructType(base + extra.fields)
    udf = grouped_arrow_udf(windows_udf, cfg=cfg, schema=schema)
    out = df.groupBy("sensor_id", "hour").applyInArrow(udf, schema)
    return out.withColumn("window_date", date_of_ns("window_start_ns")).select(
        *QOS_WINDOWS.column_names, *extra.fieldNames()
    )


def load(spark: SparkSession, windows: DataFrame, plan: WindowPlan, cfg: FeatureConfig, settings: Settings) -> int:
    from delta.tables import DeltaTable

    from netqos.jobs.build_flows import ensure_columns, plugin_fields

    table = QOS_WINDOWS.qualified(settings)
    ensure_columns(spark, table, plugin_fields(cfg, "window"))
    windows.writeTo(table).overwrite(range_predicate(plan.start_ns, "window_start_ns", "window_date"))
    (
        DeltaTable.forName(spark, FEATURE_LEDGER.qualified(settings)).update(
            F.col("file_sha256").isin(plan.files) & F.col("windows_at").isNull(),
            {"windows_at": F.lit(datetime.now(UTC))},
        )
    )
    return spark.table(table).where(range_predicate(plan.start_ns, "window_start_ns")).count()


def run(spark: SparkSession, settings: Settings, run_id: str | None = None) -> WindowReport:
    ensure_tables(spark, settings)
    plan = plan_windows(spark, settings)
    if not plan.files:
        return WindowReport(plan, 0)
    cfg = settings.features.config()
    windows = transform(extract(spark, plan, settings), cfg).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        gate(spark, windows, cfg, settings, run_id or default_run_id())
        return WindowReport(plan, load(spark, windows, plan, cfg, settings))
    finally:
        windows.unpersist()


def gate(spark: SparkSession, windows: DataFrame, cfg: FeatureConfig, settings: Settings, run_id: str) -> None:
    """Validate the recomputed windows before they replace anything. Windows mix files, so no file can be blamed:
    on failure the batch goes to quarantine_qos_windows, nothing is written, the ledger keeps the files pending,
    and the job fails (a rerun after a fix recomputes them)."""
    from netqos import quality
    from netqos.jobs.build_flows import plugin_fields
    from netqos.quality.run_record import record

    outcome = quality.validate(
        spark,
        windows,
        "qos_windows",
        run_id=run_id,
        window_seconds=settings.features.window_seconds,
        extra_columns=plugin_fields(cfg, "window").fieldNames(),
        expectations_dir=settings.quality.expectations_dir,
    )
    record(outcome, settings)
    if not outcome.success:
        quality.quarantine(spark, windows, "qos_windows", outcome, settings)
        quality.raise_for_failure(outcome)


def observed(m: JobMetrics, spark: SparkSession, settings: Settings, report: WindowReport) -> WindowReport:
    """Rows written and the QoS KPI gauges of the windows just written (read while the session is up)."""
    from netqos.observability.qos_kpis import latest_kpis

    m.rows("qos_windows", report.windows)
    m.qos_kpis(latest_kpis(spark, settings, report.plan.start_ns))
    return report


def main(argv: Sequence[str] | None = None) -> int:
    from rich.console import Console

    parser = argparse.ArgumentParser(prog="qos_windows", description="Recompute qos_windows where flows changed.")
    add_warehouse_arg(parser)
    add_run_id_arg(parser)
    args = parser.parse_args(argv)
    settings = settings_from_args(args, Settings())
    run_id = args.run_id or default_run_id()
    with job_metrics("qos_windows", settings, run_id, suites=["qos_windows"]) as m:
        report, timings = in_session(
            settings, "netqos-qos-windows", lambda spark: observed(m, spark, settings, run(spark, settings, run_id))
        )
    Console().print(
        f"qos_windows: {len(report.plan.files)} files settled, {report.windows} window rows from "
        + ", ".join(
            f"{s} {datetime.fromtimestamp(t / 1e9, UTC):%Y-%m-%d %H:00}" for s, t in report.plan.start_ns.items()
        )
        + f" ({sum(timings.values()):.1f}s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
