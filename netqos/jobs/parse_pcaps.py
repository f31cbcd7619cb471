"""Ingest capture files into Delta: `packets` (one row per frame) and `ingest_ledger` (one row per file content).

    extract   hash + probe each file in the driver, plan against the ledger, read the new ones with the `pcap` source
    transform add sensor_id, file_sha256, ts, capture_date
    load      replace those files' rows in `packets` (by file_sha256, one transaction), then MERGE the ledger

Idempotent: a rerun skips what the ledger has; a crash between the two writes re-reads the file and the
replace-by-file_sha256 overwrites the rows it already wrote instead of adding them again.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyspark import StorageLevel
from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.sql import functions as F

from netqos.decode.schema import SOURCE_FILE_COLUMN
from netqos.jobs.capture_files import CaptureFile, inspect_files
from netqos.jobs.ingest_plan import IngestPlan, new_entry, plan_ingest, quarantine_files, sensor_of
from netqos.jobs.job_args import (
    add_run_id_arg,
    add_warehouse_arg,
    default_run_id,
    in_session,
    settings_from_args,
    utc_time,
)
from netqos.lake.ledger import LedgerEntry, LedgerStatus, read_entries, upsert_entries
from netqos.lake.tables import PACKETS, ensure_tables
from netqos.observability.job_run import job_metrics
from netqos.observability.metrics import JobMetrics
from netqos.settings import Settings

if TYPE_CHECKING:
    from netqos.quality import ValidationOutcome
from netqos.spark.datasource import expand_capture_paths

_NS_PER_DAY = 86_400 * 10**9


@dataclass(frozen=True)
class Extracted:
    plan: IngestPlan
    packets: DataFrame | None  # rows of plan.to_read; None when no file needs reading


@dataclass(frozen=True)
class TransformConfig:
    sensor_by_path: Mapping[str, str]  # path -> sensor_id (from a landing key's sensor=<id>, else the run's)
    sha256_by_path: Mapping[str, str]


@dataclass(frozen=True)
class IngestReport:
    entries: list[LedgerEntry]  # ledger rows this run wrote
    skipped: list[CaptureFile]  # files the ledger already had
    validation: ValidationOutcome | None = None  # the quality gate's result for the rows read (None: none read)

    def count(self, status: LedgerStatus) -> int:
        return sum(1 for e in self.entries if e.status == status)


def _s3_client_if_needed(paths: Sequence[str], settings: Settings) -> Any:
    from netqos.storage.s3 import is_s3_uri, s3_client

    return s3_client(settings.s3) if any(is_s3_uri(p) for p in paths) else None


@dataclass(frozen=True)
class RunBounds:
    """What one run may take: objects modified before `landed_before` (a scheduled run's data interval end,
    so a rerun sees the same set), and at most `max_files` new ones, oldest first (the rest wait for the next)."""

    landed_before: datetime | None = None
    max_files: int | None = None


def extract(
    spark: SparkSession, paths: Sequence[str], settings: Settings, bounds: RunBounds = RunBounds()
) -> Extracted:
    """Plan the run from file facts + ledger, and (lazily) read the files that need it. Tables must exist."""
    s3 = _s3_client_if_needed(paths, settings)
    files = inspect_files(expand_capture_paths(paths, s3=s3), s3=s3)
    if bounds.landed_before is not None:
        files = [f for f in files if f.mtime < bounds.landed_before]
    ledger = read_entries(spark, settings, paths=[f.path for f in files], shas=[f.sha256 for f in files])
    plan = plan_ingest(files, ledger, sensor_id=settings.sensor_id, now=datetime.now(UTC))
    if bounds.max_files is not None and len(plan.to_ingest) > bounds.max_files:
        plan.to_ingest = sorted(plan.to_ingest, key=lambda f: (f.mtime, f.path))[: bounds.max_files]
    if not plan.to_read:
        return Extracted(plan, None)
    packets = (
        spark.read.format("pcap")
        .option("paths", json.dumps(sorted(plan.to_read.values())))
        .option("mode", "PERMISSIVE")
        .option("chunkBytes", settings.decode.chunk_bytes)
        .option("maxRecordBytes", settings.decode.max_record_bytes)
        .load()
    )
    return Extracted(plan, packets)


def transform(df: DataFrame, cfg: TransformConfig) -> DataFrame:
    """`pcap` source rows -> `packets` table rows (column order of PACKETS)."""
    sha_of_path = F.create_map(*[F.lit(x) for kv in cfg.sha256_by_path.items() for x in kv])
    sensor_of_path = F.create_map(*[F.lit(x) for kv in cfg.sensor_by_path.items() for x in kv])
    return df.withColumns(
        {
            "sensor_id": sensor_of_path[F.col(SOURCE_FILE_COLUMN)],
            "file_sha256": sha_of_path[F.col(SOURCE_FILE_COLUMN)],
            # Integer floor division: exact, and UTC whatever the session time zone.
            "ts": F.expr("timestamp_micros((ts_ns - pmod(ts_ns, 1000)) div 1000)"),
            "capture_date": F.expr(
                f"date_from_unix_date(CAST((ts_ns - pmod(ts_ns, {_NS_PER_DAY})) div {_NS_PER_DAY} AS INT))"
            ),
        }
    ).select(*PACKETS.column_names)


def packet_stats(spark: SparkSession, settings: Settings, shas: Sequence[str]) -> dict[str, Row]:
    """Per file_sha256, what landed in `packets`: packets, first_ts, last_ts, link_types."""
    rows = (
        spark.table(PACKETS.qualified(settings))
        .where(F.col("file_sha256").isin(list(shas)))
        .groupBy("file_sha256")
        .agg(
            F.count("*").alias("packets"),
            F.min("ts").alias("first_ts"),
            F.max("ts").alias("last_ts"),
            F.array_sort(F.collect_set("link_type")).alias("link_types"),
        )
        .collect()
    )
    return {r["file_sha256"]: r for r in rows}


def ingested_entry(f: CaptureFile, stats: Row | None, *, sensor_id: str, now: datetime) -> LedgerEntry:
    """The 'ingested' ledger row of a file, with what landed for its content (stats None: no packets)."""
    entry = new_entry(f, "ingested", sensor_id=sensor_id, now=now)
    if stats is None:
        return replace(entry, packets=0, link_types=[])
    return replace(
        entry,
        packets=stats["packets"],
        first_ts=stats["first_ts"],
        last_ts=stats["last_ts"],
        link_types=list(stats["link_types"]),
    )


def load(spark: SparkSession, df: DataFrame | None, plan: IngestPlan, settings: Settings) -> IngestReport:
    """Write packets (replace by file_sha256), then the ledger (MERGE on path, sha256)."""
    shas = list(plan.to_read)
    if df is not None:
        df.writeTo(PACKETS.qualified(settings)).overwrite(F.col("file_sha256").isin(shas))
    stats = packet_stats(spark, settings, shas) if shas else {}
    now = datetime.now(UTC)
    entries = plan.entries + [
        ingested_entry(f, stats.get(f.sha256), sensor_id=sensor_of(f.path, settings.sensor_id), now=now)
        for f in plan.to_ingest
    ]
    upsert_entries(spark, settings, entries)
    return IngestReport(entries=entries, skipped=plan.skipped)


def run(
    spark: SparkSession,
    paths: Sequence[str],
    settings: Settings,
    bounds: RunBounds = RunBounds(),
    run_id: str | None = None,
) -> IngestReport:
    """Ingest `paths`; `run_id` (the DAG run's) names this run's quarantine rows, so a retry replaces them."""
    ensure_tables(spark, settings)
    extracted = extract(spark, paths, settings, bounds)
    if extracted.packets is None:
        return load(spark, None, extracted.plan, settings)
    read = extracted.plan.to_read
    cfg = TransformConfig({p: sensor_of(p, settings.sensor_id) for p in read.values()}, {p: s for s, p in read.items()})
    # Decoded once, then validated, quarantined and written from the same cached rows.
    packets = transform(extracted.packets, cfg).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        plan, packets, outcome = gate(spark, packets, extracted.plan, settings, run_id or default_run_id())
        report = load(spark, packets, plan, settings)
    finally:
        packets.unpersist()
    return dataclasses.replace(report, validation=outcome)


def gate(
    spark: SparkSession, packets: DataFrame, plan: IngestPlan, settings: Settings, run_id: str
) -> tuple[IngestPlan, DataFrame, ValidationOutcome]:
    """Validate the new rows (suite expectations/packets.json); files that fail go to quarantine_packets and get a
    'quarantined' ledger row, the clean files go on. A failure no file can be blamed for (schema drift) stops the
    run before anything is written."""
    from netqos import quality
    from netqos.quality.run_record import record

    outcome = quality.validate(
        spark, packets, "packets", run_id=run_id, expectations_dir=settings.quality.expectations_dir
    )
    record(outcome, settings)
    if outcome.batch_failure:
        quality.quarantine(spark, packets, "packets", outcome, settings)
        quality.raise_for_failure(outcome)
    if outcome.bad_files:
        quality.quarantine(spark, packets, "packets", outcome, settings)
        reasons = {
            sha: json.dumps([asdict(f) for f in outcome.failures_for(sha)], default=str) for sha in outcome.bad_files
        }
        plan = quarantine_files(plan, reasons, sensor_id=settings.sensor_id, now=datetime.now(UTC))
        packets = packets.where(~F.col("file_sha256").isin(sorted(outcome.bad_files)))
    return plan, packets, outcome


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="parse_pcaps", description="Ingest pcap/pcapng files into Delta Lake.")
    parser.add_argument("paths", nargs="+", help="capture files, directories or globs")
    parser.add_argument("--sensor", help="sensor_id for files without sensor=<id> in their key (default: settings)")
    parser.add_argument("--max-files", type=int, help="read at most this many new files, oldest first")
    parser.add_argument(
        "--landed-before",
        type=utc_time,
        help="only files/objects modified before this ISO time (a scheduled run's data interval end)",
    )
    add_run_id_arg(parser)
    add_warehouse_arg(parser)
    return parser.parse_args(argv)


def print_report(report: IngestReport, timings: Mapping[str, float]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="ingest_ledger rows written by this run")
    for column in ("file", "status", "packets", "error"):
        table.add_column(column, overflow="fold")
    for e in report.entries:
        table.add_row(Path(e.path).name, e.status, str(e.packets or 0), e.error or "")
    console = Console()
    console.print(table)
    console.print(
        f"ingested {report.count('ingested')}, failed {report.count('failed')}, "
        f"conflict {report.count('conflict')}, quarantined {report.count('quarantined')}, "
        f"already in the ledger {len(report.skipped)}; "
        + ", ".join(f"{name} {seconds:.1f}s" for name, seconds in timings.items())
    )


def observe(m: JobMetrics, report: IngestReport) -> None:
    """Job metrics of a run: packets and ledger rows written, files per ledger status."""
    m.rows("packets", sum(e.packets or 0 for e in report.entries if e.status == "ingested"))
    m.rows("ingest_ledger", len(report.entries))
    statuses: tuple[LedgerStatus, ...] = ("ingested", "failed", "conflict", "quarantined")
    m.files({**{s: report.count(s) for s in statuses}, "skipped": len(report.skipped)})


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    settings = settings_from_args(args, Settings())
    bounds = RunBounds(args.landed_before, args.max_files)
    run_id = args.run_id or default_run_id()
    with job_metrics("parse_pcaps", settings, run_id, suites=["packets"]) as m:
        report, timings = in_session(
            settings, "netqos-parse-pcaps", lambda spark: run(spark, args.paths, settings, bounds, run_id)
        )
        observe(m, report)
    print_report(report, timings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
