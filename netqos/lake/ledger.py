"""The `ingest_ledger` table: what happened to each (path, content) the ingest job has seen."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pyspark.sql import Row, SparkSession
from pyspark.sql import functions as F

from netqos.lake.tables import INGEST_LEDGER, merge_by_keys
from netqos.settings import Settings

LedgerStatus = Literal["ingested", "failed", "conflict", "quarantined"]


@dataclass(frozen=True)
class LedgerEntry:
    """One ledger row; field order and names are INGEST_LEDGER's columns."""

    path: str
    size: int
    sha256: str
    mtime: datetime
    format: str | None
    packets: int | None
    first_ts: datetime | None
    last_ts: datetime | None
    link_types: list[int] | None
    status: LedgerStatus
    error: str | None
    ingested_at: datetime
    sensor_id: str

    @classmethod
    def from_row(cls, row: Row) -> LedgerEntry:
        values = row.asDict()
        return cls(**{f.name: values[f.name] for f in dataclasses.fields(cls)})


def read_entries(
    spark: SparkSession, settings: Settings, *, paths: Sequence[str], shas: Sequence[str]
) -> list[LedgerEntry]:
    """Ledger rows whose path or content is one of these (all the job needs to plan a run)."""
    if not paths and not shas:
        return []
    rows = (
        spark.table(INGEST_LEDGER.qualified(settings))
        .where(F.col("path").isin(list(paths)) | F.col("sha256").isin(list(shas)))
        .collect()
    )
    return [LedgerEntry.from_row(r) for r in rows]


def upsert_entries(spark: SparkSession, settings: Settings, entries: Iterable[LedgerEntry]) -> None:
    """MERGE on (path, sha256): a rerun updates the row for that content instead of adding another."""
    rows = [dataclasses.astuple(e) for e in entries]
    if not rows:
        return
    merge_by_keys(spark, INGEST_LEDGER, settings, spark.createDataFrame(rows, schema=INGEST_LEDGER.schema), update=True)
