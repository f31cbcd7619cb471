"""The quality gate of the feature jobs: tcp_analysis and flows are validated before they are written.

A failure blamed on capture files withdraws those files from the lake, losing nothing: their packets,
tcp_analysis and flows rows move to the quarantine_<table> tables with the failed expectations as the reason, and
their ingest_ledger rows become 'quarantined' (so no later run featurizes them). build_flows then recomputes
without them; stitched flows make filtering rows unsafe, recomputing is exact. A failure no file can be blamed for
(schema drift) quarantines the batch and stops the job before anything is written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from netqos import quality
from netqos.lake.tables import FLOWS, INGEST_LEDGER, PACKETS, TCP_ANALYSIS
from netqos.quality import ValidationOutcome
from netqos.quality.run_record import record
from netqos.settings import Settings

# The tables a withdrawn file's rows leave (each names its file in quality.file_column()).
_FILE_TABLES = (PACKETS, TCP_ANALYSIS, FLOWS)


def validate_tables(
    spark: SparkSession,
    tables: Mapping[str, DataFrame],
    settings: Settings,
    run_id: str,
    extra_columns: Sequence[str] = (),
) -> list[ValidationOutcome]:
    """Validate each (table name -> rows to be written), record every outcome for the run's `validate` task, and
    stop on a failure no file can be blamed for (after quarantining that table's batch)."""
    outcomes = []
    ledger = spark.table(INGEST_LEDGER.qualified(settings)).where(F.col("status") == "ingested")
    for table, df in tables.items():
        file_col = quality.file_column(table)
        assert file_col is not None
        batch_files = df.select(F.col(file_col).alias("sha256")).distinct()
        outcome = quality.validate(
            spark,
            df,
            table,
            run_id=run_id,
            ledger_df=ledger.join(batch_files, "sha256", "left_semi"),
            window_seconds=settings.features.window_seconds,
            extra_columns=extra_columns,
            expectations_dir=settings.quality.expectations_dir,
        )
        record(outcome, settings)
        if outcome.batch_failure:
            quality.quarantine(spark, df, table, outcome, settings)
            quality.raise_for_failure(outcome)
        outcomes.append(outcome)
    return outcomes


def withdraw_bad_files(
    spark: SparkSession, tables: Mapping[str, DataFrame], outcomes: Sequence[ValidationOutcome], settings: Settings
) -> frozenset[str]:
    """Move the files the outcomes blame out of the lake (module doc); returns their sha256s (empty: all clean).
    Order matters for a crash midway: quarantine copies first, then the ledger (which alone keeps the files out of
    every later plan), then the deletes; each step is idempotent."""
    bad = frozenset().union(*(o.bad_files for o in outcomes))
    if not bad:
        return bad
    run_id = outcomes[0].run_id
    failures = tuple(f for o in outcomes for f in o.failures)
    for o in outcomes:
        quality.quarantine(spark, tables[o.table], o.table, o, settings)
    as_packets = ValidationOutcome(
        table="packets",
        run_id=run_id,
        success=False,
        failures=failures,
        files_checked=tuple(sorted(bad)),
        gx_result={},
        file_column=quality.file_column("packets"),
    )
    packets = spark.table(PACKETS.qualified(settings)).where(F.col("file_sha256").isin(sorted(bad)))
    quality.quarantine(spark, packets, "packets", as_packets, settings)
    _mark_quarantined(spark, settings, {sha: _reason(as_packets, sha) for sha in bad})
    for spec in _FILE_TABLES:
        column = quality.file_column(spec.name)
        spark.sql(f"DELETE FROM {spec.qualified(settings)} WHERE {column} IN ({_sql_list(bad)})")
    return bad


def _mark_quarantined(spark: SparkSession, settings: Settings, reasons: Mapping[str, str]) -> None:
    from delta.tables import DeltaTable

    reason = F.create_map(*[F.lit(x) for sha, text in sorted(reasons.items()) for x in (sha, text)])
    DeltaTable.forName(spark, INGEST_LEDGER.qualified(settings)).update(
        F.col("sha256").isin(sorted(reasons)) & (F.col("status") == "ingested"),
        {"status": F.lit("quarantined"), "error": reason[F.col("sha256")]},
    )


def _reason(outcome: ValidationOutcome, sha: str) -> str:
    return json.dumps([asdict(f) for f in outcome.failures_for(sha)], default=str)


def _sql_list(values: frozenset[str]) -> str:
    # sha256 hex digests only: safe to inline.
    assert all(v.isalnum() for v in values)
    return ", ".join(f"'{v}'" for v in sorted(values))
