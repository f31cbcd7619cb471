"""Featurize ingested packets into Delta: `tcp_analysis` (one row per packet) and `flows`, incrementally.

    plan      files in the ingest ledger that `feature_ledger` has not seen; per sensor, the time T0 from which
              tables must be recomputed (below)
    extract   the sensor's packets with ts_ns >= T0, each tagged with its file's rank and an address-pair bucket
    transform per (sensor, bucket), netqos.features.featurize() over the rows in capture order (file rank, frame),
              with flows and TCP streams continuing across the sensor's rotated files
    load      replace the sensor's rows from T0 on in both tables, then record the files in `feature_ledger`

Why T0 makes this exact: new packets start at T_new. Every flow that ended before T_new - idle_timeout is
final (a later packet of its key would start a new flow anyway). T0 is the earliest first packet of the other
flows, pushed back until no flow straddles it, so the rows from T0 on are exactly the packets of the flows
being recomputed, and a late file, a rerun or a crashed run gives the same tables as one run over everything.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession, Window, WindowSpec
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from netqos.jobs.job_args import add_run_id_arg, add_warehouse_arg, default_run_id, in_session, settings_from_args
from netqos.jobs.sensor_ranges import date_of_ns, range_predicate
from netqos.lake.tables import (
    FEATURE_LEDGER,
    FLOWS,
    INGEST_LEDGER,
    PACKETS,
    TCP_ANALYSIS,
    TableSpec,
    ensure_tables,
    merge_by_keys,
)
from netqos.observability.job_run import job_metrics
from netqos.settings import Settings
from netqos.spark.arrow_udf import conform, grouped_arrow_udf
from netqos.spark.schema import to_spark_schema

if TYPE_CHECKING:
    import pyarrow as pa

    from netqos.features.config import FeatureConfig

MAX_T0_STEPS = 1000  # each step moves T0 back by at least one flow; past this, recompute the sensor from its start


@dataclass(frozen=True)
class FileSpan:
    sha256: str
    sensor_id: str
    first_ns: int
    last_ns: int


@dataclass
class FlowPlan:
    new_files: list[FileSpan] = field(default_factory=list)
    start_ns: dict[str, int] = field(default_factory=dict)  # sensor -> T0


@dataclass(frozen=True)
class FlowReport:
    plan: FlowPlan
    packets: int
    flows: int


def ingested_files(spark: SparkSession, settings: Settings) -> DataFrame:
    """One row per ingested content with packets: sha256, sensor_id, first_ns, last_ns."""
    return (
        spark.table(INGEST_LEDGER.qualified(settings))
        .where((F.col("status") == "ingested") & (F.col("packets") > 0))
        .groupBy(F.col("sha256"))
        .agg(
            F.min("sensor_id").alias("sensor_id"),
            F.min("first_ts").alias("first_ts"),
            F.max("last_ts").alias("last_ts"),
            # Exact integers: collect() would turn timestamps into naive local datetimes.
            (F.unix_micros(F.min("first_ts")) * 1000).alias("first_ns"),
            (F.unix_micros(F.max("last_ts")) * 1000 + 999).alias("last_ns"),
        )
    )


def pending_files(spark: SparkSession, settings: Settings) -> list[FileSpan]:
    seen = spark.table(FEATURE_LEDGER.qualified(settings)).select(F.col("file_sha256").alias("sha256"))
    rows = ingested_files(spark, settings).join(seen, "sha256", "left_anti").collect()
    return sorted(
        (FileSpan(r.sha256, r.sensor_id, r.first_ns, r.last_ns) for r in rows),
        key=lambda f: (f.sensor_id, f.first_ns, f.sha256),
    )


def recompute_start(spark: SparkSession, settings: Settings, sensor: str, new_first_ns: int, idle_ns: int) -> int:
    """T0 for a sensor whose new packets start at new_first_ns (see the module doc)."""
    flows = spark.table(FLOWS.qualified(settings)).where(F.col("sensor_id") == sensor)
    t = new_first_ns - idle_ns
    for _ in range(MAX_T0_STEPS):
        earliest = flows.where(F.col("last_ts_ns") >= t).agg(F.min("first_ts_ns")).first()
        if earliest is None or earliest[0] is None or earliest[0] >= t:
            return t
        t = int(earliest[0])
    first = flows.agg(F.min("first_ts_ns")).first()
    return min(t, int(first[0])) if first and first[0] is not None else t


def plan_flows(spark: SparkSession, settings: Settings) -> FlowPlan:
    plan = FlowPlan(new_files=pending_files(spark, settings))
    idle_ns = round(settings.features.idle_timeout * 1e9)
    for f in plan.new_files:
        plan.start_ns[f.sensor_id] = min(plan.start_ns.get(f.sensor_id, f.first_ns), f.first_ns)
    plan.start_ns = {s: recompute_start(spark, settings, s, t, idle_ns) for s, t in plan.start_ns.items()}
    return plan


def input_columns() -> list[str]:
    """Packet columns featurize() reads (everything else stays in Delta)."""
    from netqos.analysis import tcp
    from netqos.features.windows import NEEDED
    from netqos.flows import build

    wanted = {*tcp.REQUIRED_COLUMNS, *tcp.OPTIONAL_COLUMNS, *build.REQUIRED_COLUMNS, *build.OPTIONAL_COLUMNS}
    wanted |= {c for c in NEEDED if c in PACKETS.column_names} | {"ip_dscp"}
    wanted |= {"file_sha256", "sensor_id"}
    return [c for c in PACKETS.column_names if c in wanted and c != "source_file"]


def extract(spark: SparkSession, plan: FlowPlan, settings: Settings) -> DataFrame:
    """The packets to featurize: per sensor from T0 on, with file_rank (capture order of the sensor's files) and
    an address-pair bucket (all packets of a flow share it; buckets are featurized in parallel)."""
    buckets = settings.features.flow_buckets or settings.spark.shuffle_partitions
    ranks = (
        ingested_files(spark, settings)
        .where(F.col("sensor_id").isin(list(plan.start_ns)))
        .select(
            F.col("sha256").alias("file_sha256"),
            F.row_number().over(_rank_window()).alias("file_rank"),
        )
    )
    a = F.coalesce(F.col("ip_src"), F.col("eth_src"), F.col("wlan_addr2"))
    b = F.coalesce(F.col("ip_dst"), F.col("eth_dst"), F.col("wlan_addr1"))
    return (
        spark.table(PACKETS.qualified(settings))
        .where(range_predicate(plan.start_ns, "ts_ns", "capture_date"))
        .select(*input_columns())
        .join(F.broadcast(ranks), "file_sha256")
        .withColumn("bucket", F.pmod(F.xxhash64(F.least(a, b), F.greatest(a, b)), F.lit(buckets)))
    )


def _rank_window() -> WindowSpec:
    return Window.partitionBy("sensor_id").orderBy("first_ts", "sha256")


def _stitched(table: pa.Table, cfg: FeatureConfig) -> pa.Table:
    """One group's rows in capture order, with the file as source_file (what per_file=False stitches over)."""
    import pyarrow.compute as pc

    order = pc.sort_indices(table, [("file_rank", "ascending"), ("frame_no", "ascending")])
    table = table.take(order)
    return table.append_column("source_file", table.column("file_sha256"))


def _group_config(table: pa.Table, cfg: FeatureConfig) -> FeatureConfig:
    sensor = table.column("sensor_id")[0].as_py()
    return replace(cfg, flow=replace(cfg.flow, sensor_id=sensor, per_file=False))


def packets_udf(table: pa.Table, cfg: FeatureConfig, schema: StructType) -> pa.Table:
    from netqos.features import featurize

    rows = _stitched(table, cfg)
    out = featurize(rows, _group_config(rows, cfg)).packets
    out = out.rename_columns(["file_sha256" if c == "source_file" else c for c in out.column_names])
    out = out.append_column("ts_ns", rows.column("ts_ns")).append_column("sensor_id", rows.column("sensor_id"))
    return conform(out, schema)


def flows_udf(table: pa.Table, cfg: FeatureConfig, schema: StructType) -> pa.Table:
    from netqos.features import featurize

    rows = _stitched(table, cfg)
    out = featurize(rows, _group_config(rows, cfg)).flows
    out = out.rename_columns(["first_file_sha256" if c == "source_file" else c for c in out.column_names])
    return conform(out, schema)


def _without(spec: TableSpec, *names: str) -> StructType:
    return StructType([f for f in spec.schema.fields if f.name not in names])


def plugin_fields(cfg: FeatureConfig, kind: str) -> StructType:
    """Spark fields of the enabled plugins' flow or window columns."""
    import pyarrow as pa

    from netqos.features.plugins import load_plugins

    cols = [c for p in load_plugins(cfg.plugins, cfg) for c in getattr(p, f"{kind}_columns")]
    return to_spark_schema(pa.schema([pa.field(n, t, metadata={"doc": d}) for n, t, d in cols]))


def transform_packets(df: DataFrame, cfg: FeatureConfig) -> DataFrame:
    """extract() rows -> `tcp_analysis` rows."""
    schema = _without(TCP_ANALYSIS, "capture_date")
    udf = grouped_arrow_udf(packets_udf, cfg=cfg, schema=schema)
    out = df.groupBy("sensor_id", "bucket").applyInArrow(udf, schema)
    return out.withColumn("capture_date", date_of_ns("ts_ns")).select(*TCP_ANALYSIS.column_names)


def transform_flows(df: DataFrame, cfg: FeatureConfig) -> DataFrame:
    """extract() rows -> `flows` rows (plus the enabled plugins' columns)."""
    extra = plugin_fields(cfg, "flow")
    schema = StructType(_without(FLOWS, "flow_date").fields + extra.fields)
    udf = grouped_arrow_udf(flows_udf, cfg=cfg, schema=schema)
    out = df.groupBy("sensor_id", "bucket").applyInArrow(udf, schema)
    return out.withColumn("flow_date", date_of_ns("first_ts_ns")).select(*FLOWS.column_names, *extra.fieldNames())


def ensure_columns(spark: SparkSession, table: str, fields: StructType) -> None:
    """Add plugin columns a table lacks (explicit, idempotent schema evolution)."""
    have = set(spark.table(table).columns)
    missing = [f for f in fields.fields if f.name not in have]
    if missing:
        cols = ", ".join(f"`{f.name}` {f.dataType.simpleString()}" for f in missing)
        spark.sql(f"ALTER TABLE {table} ADD COLUMNS ({cols})")


def load(
    spark: SparkSession, packets: DataFrame, flows: DataFrame, plan: FlowPlan, cfg: FeatureConfig, settings: Settings
) -> FlowReport:
    """Replace each sensor's rows from T0 on (one transaction per table), then record the files as featurized."""
    flows_table = FLOWS.qualified(settings)
    ensure_columns(spark, flows_table, plugin_fields(cfg, "flow"))
    packets.writeTo(TCP_ANALYSIS.qualified(settings)).overwrite(range_predicate(plan.start_ns, "ts_ns", "capture_date"))
    flows.writeTo(flows_table).overwrite(range_predicate(plan.start_ns, "first_ts_ns", "flow_date"))
    now = datetime.now(UTC)
    rows = [
        (f.sha256, f.sensor_id, f.first_ns, f.last_ns, plan.start_ns[f.sensor_id], now, None) for f in plan.new_files
    ]
    merge_by_keys(
        spark, FEATURE_LEDGER, settings, spark.createDataFrame(rows, schema=FEATURE_LEDGER.schema), update=True
    )
    analysis = spark.table(TCP_ANALYSIS.qualified(settings)).where(range_predicate(plan.start_ns, "ts_ns"))
    written = spark.table(flows_table).where(range_predicate(plan.start_ns, "first_ts_ns"))
    return FlowReport(plan, analysis.count(), written.count())


def run(spark: SparkSession, settings: Settings, run_id: str | None = None) -> FlowReport:
    """Plan, featurize, gate, load. When the gate withdraws files, plan and featurize once more without them."""
    from netqos.jobs.feature_gate import validate_tables, withdraw_bad_files
    from netqos.quality import ValidationFailed

    ensure_tables(spark, settings)
    run_id = run_id or default_run_id()
    cfg = settings.features.config()
    extra = plugin_fields(cfg, "flow").fieldNames()
    for attempt in range(2):
        plan = plan_flows(spark, settings)
        if not plan.new_files:
            return FlowReport(plan, 0, 0)
        packets = extract(spark, plan, settings)
        tables = {
            "tcp_analysis": transform_packets(packets, cfg).persist(StorageLevel.MEMORY_AND_DISK),
            "flows": transform_flows(packets, cfg).persist(StorageLevel.MEMORY_AND_DISK),
        }
        try:
            outcomes = validate_tables(spark, tables, settings, run_id, extra_columns=extra)
            if attempt == 1 and any(not o.success for o in outcomes):
                # Files that passed once fail now: the suite or the data is unstable; stop rather than loop.
                raise ValidationFailed(next(o for o in outcomes if not o.success))
            if not withdraw_bad_files(spark, tables, outcomes, settings):
                return load(spark, tables["tcp_analysis"], tables["flows"], plan, cfg, settings)
        finally:
            for df in tables.values():
                df.unpersist()
    raise AssertionError("unreachable: the second pass returns or raises")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="build_flows", description="Featurize newly ingested packets into tcp_analysis and flows (Delta)."
    )
    add_warehouse_arg(parser)
    add_run_id_arg(parser)
    return parser.parse_args(argv)


def print_report(report: FlowReport, timings: Mapping[str, float]) -> None:
    from rich.console import Console

    sensors = ", ".join(
        f"{s} from {datetime.fromtimestamp(t / 1e9, UTC):%Y-%m-%d %H:%M:%S}" for s, t in report.plan.start_ns.items()
    )
    Console().print(
        f"build_flows: {len(report.plan.new_files)} new files; recomputed {sensors or 'nothing'}: "
        f"{report.packets} packets, {report.flows} flows; "
        + ", ".join(f"{name} {seconds:.1f}s" for name, seconds in timings.items())
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    settings = settings_from_args(args, Settings())
    run_id = args.run_id or default_run_id()
    with job_metrics("build_flows", settings, run_id, suites=["tcp_analysis", "flows"]) as m:
        report, timings = in_session(settings, "netqos-build-flows", lambda spark: run(spark, settings, run_id))
        m.rows("tcp_analysis", report.packets)
        m.rows("flows", report.flows)
    print_report(report, timings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
