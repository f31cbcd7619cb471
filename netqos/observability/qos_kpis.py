"""The QoS KPI gauges' values: each sensor's latest window per (dimension, class) among the windows a job
just wrote. Read in the job's Spark session, before it stops."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from netqos.observability.metrics import QOS_KPI_METRICS, KpiRow
from netqos.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

NS = 1_000_000_000


def latest_kpis(spark: SparkSession, settings: Settings, start_ns: Mapping[str, int]) -> list[KpiRow]:
    """`start_ns`: sensor -> where the job recomputed qos_windows from (its plan); nothing read when empty."""
    if not start_ns:
        return []
    from pyspark.sql import functions as F

    from netqos.jobs.sensor_ranges import range_predicate
    from netqos.lake.tables import QOS_WINDOWS

    window_s = settings.observability.kpi_window_s or max(settings.features.window_seconds)
    columns = list(QOS_KPI_METRICS)
    latest = F.max_by(F.struct("window_start_ns", *columns), "window_start_ns").alias("w")
    rows = (
        spark.table(QOS_WINDOWS.qualified(settings))
        .where(range_predicate(dict(start_ns), "window_start_ns", "window_date") & (F.col("window_s") == window_s))
        .groupBy("sensor_id", "dimension", "class")
        .agg(latest)
        .collect()
    )
    return [
        KpiRow(
            sensor=r["sensor_id"],
            dimension=r["dimension"],
            class_=r["class"],
            window_end_s=r["w"]["window_start_ns"] / NS + window_s,
            values={c: None if r["w"][c] is None else float(r["w"][c]) for c in columns},
        )
        for r in rows
    ]
