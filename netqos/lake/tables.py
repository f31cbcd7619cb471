"""Each Delta table netqos writes, described once: name, schema, keys, partitioning. docs/tables.md explains them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pyspark.sql import SparkSession
from pyspark.sql.types import (
    ArrayType,
    DataType,
    DateType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from netqos.settings import Settings
from netqos.spark.schema import pcap_source_struct


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
            _col("status", StringType(), "ingested | failed | conflict"),
            _col("error", StringType(), "why failed / conflict; null when ingested"),
            _col("ingested_at", TimestampType(), "when this row was written"),
            _col("sensor_id", StringType(), "sensor of the run that wrote this row"),
        ]
    ),
    keys=("path", "sha256"),
    comment="One row per (path, content) the ingest job has seen.",
)

ALL_TABLES = (PACKETS, INGEST_LEDGER)


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
