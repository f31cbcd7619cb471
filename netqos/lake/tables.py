"""Each Delta table netqos writes, described once: name, schema, keys, partitioning. docs/tables.md explains them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DataType,
    DateType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from netqos.features.schema import PACKET_FEATURES_SCHEMA, WINDOW_SCHEMA
from netqos.flows.schema import FLOW_SCHEMA
from netqos.settings import Settings
from netqos.spark.schema import pcap_source_struct, to_spark_schema


@dataclass(frozen=True)
class TableSpec:
    name: str
    schema: StructType
    keys: tuple[str, ...]
    partition_by: tuple[str, ...] = ()
    properties: Mapping[str, str] = field(default_factory=dict)
    comment: str = ""

    def qualified(self, settings: Settings) -> str:
        return f"{settings.lake.database}.{self.name}"

    @property
    def column_names(self) -> list[str]:
        return self.schema.fieldNames()


def _col(name: str, dtype: DataType, doc: str) -> StructField:
    return StructField(name, dtype, nullable=True, metadata={"comment": doc})


PACKETS = TableSpec(
    name="packets",
    schema=StructType(
        [
            *pcap_source_struct().fields,
            _col("sensor_id", StringType(), "sensor that captured the file (job --sensor)"),
            _col("file_sha256", StringType(), "sha256 of the capture file; (file_sha256, frame_no) is the packet key"),
            _col("ts", TimestampType(), "ts_ns as a timestamp (microseconds, UTC)"),
            _col("capture_date", DateType(), "UTC date of ts_ns (partition column)"),
        ]
    ),
    keys=("file_sha256", "frame_no"),
    partition_by=("capture_date", "sensor_id"),
    properties={
        # The ingest job replaces a file's rows by file_sha256; stats on it let Delta touch only that file's parquet.
        "delta.dataSkippingStatsColumns": "file_sha256,frame_no,ts_ns,ts",
    },
    comment="One row per captured frame, decoded by netqos.decode (schema v1).",
)

INGEST_LEDGER = TableSpec(
    name="ingest_ledger",
    schema=StructType(
        [
            _col("path", StringType(), "absolute path of the capture file"),
            _col("size", LongType(), "file size in bytes"),
            _col("sha256", StringType(), "sha256 of the file content"),
            _col("mtime", TimestampType(), "file modification time"),
            _col("format", StringType(), "pcap | pcapng; null when unreadable"),
            _col("packets", LongType(), "rows of this content in packets"),
            _col("first_ts", TimestampType(), "earliest packet timestamp"),
            _col("last_ts", TimestampType(), "latest packet timestamp"),
            _col("link_types", ArrayType(IntegerType()), "distinct LINKTYPE_* values of the packets"),
            _col("status", StringType(), "ingested | failed | conflict | quarantined"),
            _col(
                "error",
                StringType(),
                "why failed / conflict / quarantined (failed expectations, JSON); null when ingested",
            ),
            _col("ingested_at", TimestampType(), "when this row was written"),
            _col("sensor_id", StringType(), "sensor of the run that wrote this row"),
        ]
    ),
    keys=("path", "sha256"),
    comment="One row per (path, content) the ingest job has seen.",
)


def _arrow_struct(schema: pa.Schema, drop: tuple[str, ...] = ()) -> list[StructField]:
    return [f for f in to_spark_schema(schema).fields if f.name not in drop]


TCP_ANALYSIS = TableSpec(
    name="tcp_analysis",
    schema=StructType(
        [
            _col("file_sha256", StringType(), "capture file (packets.file_sha256); with frame_no the packet key"),
            *_arrow_struct(PACKET_FEATURES_SCHEMA),
            _col("ts_ns", LongType(), "packet timestamp (packets.ts_ns)"),
            _col("sensor_id", StringType(), "sensor of the packet"),
            _col("capture_date", DateType(), "UTC date of ts_ns (partition column)"),
        ]
    ),
    keys=("file_sha256", "frame_no"),
    partition_by=("capture_date", "sensor_id"),
    properties={"delta.dataSkippingStatsColumns": "file_sha256,frame_no,ts_ns,flow_id"},
    comment="One row per packet with a timestamp: its flow, classes, UDP jitter and Wireshark-style TCP analysis.",
)

FLOWS = TableSpec(
    name="flows",
    schema=StructType(
        [
            *_arrow_struct(FLOW_SCHEMA),
            _col("first_file_sha256", StringType(), "capture file of the flow's first packet"),
            _col("flow_date", DateType(), "UTC date of first_ts_ns (partition column)"),
        ]
    ),
    keys=("flow_id",),
    partition_by=("flow_date", "sensor_id"),
    properties={"delta.dataSkippingStatsColumns": "flow_id,first_ts_ns,last_ts_ns,src_addr,dst_addr"},
    comment="One row per bidirectional flow, stitched across a sensor's rotated files (docs/flows.md).",
)

QOS_WINDOWS = TableSpec(
    name="qos_windows",
    schema=StructType(
        [
            *_arrow_struct(WINDOW_SCHEMA),
            _col("window_date", DateType(), "UTC date of window_start (partition column)"),
        ]
    ),
    keys=("sensor_id", "window_s", "window_start_ns", "dimension", "class"),
    partition_by=("window_date", "sensor_id"),
    comment="QoS features per sensor, window (10 s, 60 s) and service/DSCP class (docs/schema/qos_windows.md).",
)

FEATURE_LEDGER = TableSpec(
    name="feature_ledger",
    schema=StructType(
        [
            _col("file_sha256", StringType(), "capture file whose packets the flows job has featurized"),
            _col("sensor_id", StringType(), "sensor of the file"),
            _col("first_ts_ns", LongType(), "earliest packet of the file (ns)"),
            _col("last_ts_ns", LongType(), "latest packet of the file (ns)"),
            _col("recompute_from_ns", LongType(), "start of the time range the run recomputed for the sensor"),
            _col("flows_at", TimestampType(), "when tcp_analysis and flows included this file"),
            _col("windows_at", TimestampType(), "when qos_windows were recomputed for it; null = pending"),
        ]
    ),
    keys=("file_sha256",),
    comment="Which ingested files the flows and windows jobs have processed (their incremental state).",
)

TOP_FEATURE = StructType([
    StructField("feature", StringType()), StructField("z", DoubleType()),
])  # fmt: skip

ANOMALIES = TableSpec(
    name="anomalies",
    schema=StructType(
        [
            _col("sensor_id", StringType(), "sensor of the window"),
            _col("window_s", IntegerType(), "window length in seconds (the model's)"),
            _col("window_start", TimestampType(), "window start (UTC)"),
            _col("window_start_ns", LongType(), "window start in ns since the epoch (qos_windows.window_start_ns)"),
            _col("model_name", StringType(), "registered MLflow model"),
            _col("model_version", StringType(), "its version that scored the window"),
            _col("model_run_id", StringType(), "MLflow run that trained that version"),
            _col("detector", StringType(), "isolation_forest | gradient_boosting | robust_kpi"),
            _col("score", DoubleType(), "anomaly score: higher = more anomalous"),
            _col("threshold", DoubleType(), "the model's alarm threshold"),
            _col("is_anomaly", BooleanType(), "score >= threshold"),
            _col(
                "top_features",
                ArrayType(TOP_FEATURE),
                "flagged windows only: the features furthest from normal, as robust z-scores",
            ),
            _col("scored_at", TimestampType(), "when the scoring run wrote the row"),
            _col("scoring_run_id", StringType(), "scoring run (the DAG's run_id)"),
            _col("window_date", DateType(), "UTC date of window_start (partition column)"),
        ]
    ),
    keys=("sensor_id", "window_s", "window_start_ns", "model_name", "model_version"),
    partition_by=("window_date",),
    comment="Every window a champion model scored, with its score and, when flagged, why (docs/models.md).",
)

ALERTS = TableSpec(
    name="alerts",
    schema=StructType(
        [
            _col(
                "alert_id",
                StringType(),
                "sha256 of source, rule, sensor, window_s, dimension, class, episode start, kind, seq",
            ),
            _col(
                "source", StringType(), "rule (a KPI threshold rule of settings.alerts) | anomaly (the anomalies table)"
            ),
            _col("rule", StringType(), "rule name; model_anomaly for anomaly alerts"),
            _col(
                "kind",
                StringType(),
                "firing (episode reached for_windows) | repeat (still firing after the dedup window) | resolved",
            ),
            _col("seq", IntegerType(), "0 for firing, 1.. for each repeat, -1 for resolved"),
            _col("severity", StringType(), "info | warning | critical"),
            _col("sensor_id", StringType(), "sensor of the windows"),
            _col("window_s", IntegerType(), "window length in seconds"),
            _col("dimension", StringType(), "qos_windows.dimension of the windows (all for anomalies)"),
            _col("class", StringType(), "qos_windows.class of the windows (all for anomalies)"),
            _col("kpi", StringType(), "qos_windows column the rule tests; score for anomalies"),
            _col("operator", StringType(), "> or <"),
            _col("threshold", DoubleType(), "the rule's threshold (anomalies: the score threshold applied)"),
            _col("value", DoubleType(), "the KPI (or score) in the window that triggered this row"),
            _col("peak_value", DoubleType(), "worst value of the episode up to that window"),
            _col("episode_start", TimestampType(), "first firing window of the episode (UTC)"),
            _col("episode_start_ns", LongType(), "the same in ns since the epoch"),
            _col("window_start", TimestampType(), "window that triggered this row (UTC)"),
            _col("window_start_ns", LongType(), "the same in ns since the epoch"),
            _col("last_window_ns", LongType(), "last firing window of the episode the writing run saw"),
            _col("windows", IntegerType(), "firing windows of the episode up to window_start"),
            _col("model_name", StringType(), "anomaly alerts: the model that scored the window"),
            _col("model_version", StringType(), "anomaly alerts: its version"),
            _col("top_features", ArrayType(TOP_FEATURE), "anomaly alerts: the features that drove the score"),
            _col("message", StringType(), "the text sent to the notifiers"),
            _col("status", StringType(), "sent | deduplicated | rate_limited | failed | logged (no notifier set)"),
            _col("notifiers", ArrayType(StringType()), "notifiers that delivered it (webhook, email)"),
            _col("error", StringType(), "why a notifier failed (never contains the webhook URL); null otherwise"),
            _col("attempts", IntegerType(), "delivery attempts across runs (a failed row is retried by later runs)"),
            _col("created_at", TimestampType(), "when the row was first written"),
            _col("notified_at", TimestampType(), "when it was delivered; null unless sent"),
            _col("run_id", StringType(), "evaluation run that wrote the row (the DAG's run_id)"),
            _col("alert_date", DateType(), "UTC date of window_start"),
        ]
    ),
    keys=("alert_id",),
    comment="One row per alert notification decision: firing, repeat, resolved (docs/alerts.md).",
)

ALL_TABLES = (PACKETS, INGEST_LEDGER, TCP_ANALYSIS, FLOWS, QOS_WINDOWS, FEATURE_LEDGER, ANOMALIES, ALERTS)


def ensure_tables(spark: SparkSession, settings: Settings, specs: tuple[TableSpec, ...] = ALL_TABLES) -> None:
    """Create the database and each table if missing (idempotent; an existing table is left as it is)."""
    from delta.tables import DeltaTable

    spark.sql(f"CREATE DATABASE IF NOT EXISTS {settings.lake.database}")
    for spec in specs:
        builder = DeltaTable.createIfNotExists(spark).tableName(spec.qualified(settings)).addColumns(spec.schema)
        if spec.partition_by:
            builder = builder.partitionedBy(*spec.partition_by)
        for key, value in spec.properties.items():
            builder = builder.property(key, value)
        if spec.comment:
            builder = builder.comment(spec.comment)
        builder.execute()


def merge_by_keys(spark: SparkSession, spec: TableSpec, settings: Settings, rows: DataFrame, *, update: bool) -> None:
    """MERGE `rows` into the table on its keys: new keys are inserted; existing ones are replaced (`update`) or left
    alone (insert-only, e.g. scores already written). Either way a rerun adds no duplicate."""
    from delta.tables import DeltaTable

    on = " AND ".join(f"t.{k} = s.{k}" for k in spec.keys)
    merge = DeltaTable.forName(spark, spec.qualified(settings)).alias("t").merge(rows.alias("s"), on)
    if update:
        merge = merge.whenMatchedUpdateAll()
    merge.whenNotMatchedInsertAll().execute()
