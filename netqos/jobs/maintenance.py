"""Keep the lake healthy: compact (OPTIMIZE) and VACUUM every table, expire old quarantine rows and per-run quality
records, and delete landed captures older than the retention that the ledger has ingested (never one it has not).

All steps are idempotent; the cut-off dates come from `as_of` (a DAG passes its data interval end), not now().
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from netqos.jobs.job_args import add_warehouse_arg, in_session, settings_from_args, utc_time
from netqos.lake.tables import ALL_TABLES, INGEST_LEDGER, ensure_tables
from netqos.observability.job_run import job_metrics
from netqos.quality import run_record
from netqos.settings import Settings


@dataclass
class MaintenanceReport:
    optimized: list[str] = field(default_factory=list)
    vacuumed: list[str] = field(default_factory=list)
    quarantine_rows_expired: int = 0
    quality_records_expired: int = 0
    captures_deleted: list[str] = field(default_factory=list)


def lake_tables(spark: SparkSession, settings: Settings) -> list[str]:
    """Every Delta table of the database: the fixed ones and the quarantine_<table> ones."""
    db = settings.lake.database
    names = {t.name for t in ALL_TABLES} | {r.tableName for r in spark.sql(f"SHOW TABLES IN {db}").collect()}
    return sorted(f"{db}.{n}" for n in names if spark.catalog.tableExists(f"{db}.{n}"))


def expire_quarantine(spark: SparkSession, settings: Settings, as_of: datetime) -> int:
    cutoff = as_of - timedelta(days=settings.retention.quarantine_days)
    expired = 0
    for table in lake_tables(spark, settings):
        if table.split(".", 1)[1].startswith("quarantine_"):
            old = spark.table(table).where(F.col("quarantined_at") < F.lit(cutoff))
            n = old.count()
            if n:
                spark.sql(f"DELETE FROM {table} WHERE quarantined_at < timestamp'{cutoff:%Y-%m-%d %H:%M:%S}'")
                expired += n
    return expired


def expire_raw_captures(spark: SparkSession, settings: Settings, as_of: datetime) -> list[str]:
    """Delete landed objects older than raw_capture_days whose content the ledger has ingested."""
    days = settings.retention.raw_capture_days
    if days is None:
        return []
    from netqos.storage.s3 import s3_client, split_uri

    cutoff = as_of - timedelta(days=days)
    rows = (
        spark.table(INGEST_LEDGER.qualified(settings))
        .where(F.col("path").startswith("s3://") & (F.col("status") == "ingested") & (F.col("mtime") < cutoff))
        .select("path")
        .distinct()
        .collect()
    )
    client = s3_client(settings.s3)
    deleted = []
    for r in rows:
        bucket, key = split_uri(r.path)
        client.delete_object(Bucket=bucket, Key=key)
        deleted.append(r.path)
    return deleted


def run(
    spark: SparkSession,
    settings: Settings,
    as_of: datetime,
    *,
    compact: bool = True,
    tables: Sequence[str] | None = None,
) -> MaintenanceReport:
    """Retention first (so VACUUM can drop what it deleted), then OPTIMIZE + VACUUM of `tables` (default: all;
    names without the database) unless `compact` is False."""
    ensure_tables(spark, settings)
    report = MaintenanceReport()
    report.quarantine_rows_expired = expire_quarantine(spark, settings, as_of)
    cutoff = as_of - timedelta(days=settings.retention.quarantine_days)
    report.quality_records_expired = len(run_record.expire(settings, cutoff))
    report.captures_deleted = expire_raw_captures(spark, settings, as_of)
    chosen = lake_tables(spark, settings)
    if tables is not None:
        chosen = [t for t in chosen if t.split(".", 1)[1] in tables]
    for table in chosen if compact else []:
        spark.sql(f"OPTIMIZE {table}")
        report.optimized.append(table)
        spark.sql(f"VACUUM {table} RETAIN {settings.retention.vacuum_hours} HOURS")
        report.vacuumed.append(table)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="maintenance", description="OPTIMIZE/VACUUM the lake; expire old data.")
    parser.add_argument("--as-of", type=utc_time, help="ISO time the retention counts back from")
    add_warehouse_arg(parser)
    args = parser.parse_args(argv)
    settings = settings_from_args(args, Settings())
    as_of = args.as_of or datetime.now(UTC)
    with job_metrics("maintenance", settings):
        report, _ = in_session(settings, "netqos-maintenance", lambda spark: run(spark, settings, as_of))
    print(
        f"maintenance: optimized+vacuumed {len(report.optimized)} tables, expired {report.quarantine_rows_expired} "
        f"quarantine rows and {report.quality_records_expired} runs' quality records, "
        f"deleted {len(report.captures_deleted)} landed captures"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
