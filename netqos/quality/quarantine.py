"""quarantine(): the rows of the files a validation blamed go to Delta table quarantine_<table>.

Columns: the table's own (cast to its schema; missing ones null), quarantine_run_id, quarantine_reason (JSON list of
the failed expectations that file broke), quarantined_at. Rerunning a run replaces its rows for those files
(replaceWhere on quarantine_run_id + file), so a retry never duplicates them.
"""

from __future__ import annotations

import json
from typing import Any

from netqos.quality.outcome import ValidationOutcome
from netqos.quality.suites import SPECS
from netqos.settings import Settings

EXTRA_COLUMNS = ("quarantine_run_id", "quarantine_reason", "quarantined_at")


def quarantine_table(table: str, settings: Settings) -> str:
    return f"{settings.lake.database}.quarantine_{SPECS[table].name}"


def quarantine(spark: Any, df: Any, table: str, outcome: ValidationOutcome, settings: Settings) -> tuple[str, ...]:
    """Append the bad files' rows of df to quarantine_<table>; returns the files quarantined ("*" = whole batch:
    a failure no file can be blamed for, or a table without a file column). No-op when the outcome passed."""
    from pyspark.sql import functions as F

    if outcome.success:
        return ()
    spec, name, file_col = SPECS[table], quarantine_table(table, settings), outcome.file_column
    _ensure(spark, table, settings)
    run = F.lit(outcome.run_id)
    if file_col is None or outcome.batch_failure:
        files: tuple[str, ...] = ("*",)
        rows = df
        reason = F.lit(_reason(outcome.failures))
        condition = F.col("quarantine_run_id") == run
    else:
        files = tuple(sorted(outcome.bad_files))
        rows = df.where(F.col(file_col).isin(list(files)))
        reasons = F.create_map(*[F.lit(x) for sha in files for x in (sha, _reason(outcome.failures_for(sha)))])
        reason = reasons[F.col(file_col)]
        condition = (F.col("quarantine_run_id") == run) & F.col(file_col).isin(list(files))
    present = set(df.columns)
    out = rows.select(
        *[
            (F.col(f.name) if f.name in present else F.lit(None)).cast(f.dataType).alias(f.name)
            for f in spec.schema.fields
        ],
        run.alias("quarantine_run_id"),
        reason.alias("quarantine_reason"),
        F.current_timestamp().alias("quarantined_at"),
    )
    out.writeTo(name).overwrite(condition)
    return files


def _reason(failures: Any) -> str:
    return json.dumps(
        [
            {"expectation_type": f.expectation_type, "kwargs": f.kwargs, "unexpected_count": f.unexpected_count}
            for f in failures
        ],
        default=str,
        sort_keys=True,
    )


def _ensure(spark: Any, table: str, settings: Settings) -> None:
    from delta.tables import DeltaTable
    from pyspark.sql.types import StringType, StructField, StructType, TimestampType

    spec = SPECS[table]
    schema = StructType(
        [
            *spec.schema.fields,
            StructField("quarantine_run_id", StringType()),
            StructField("quarantine_reason", StringType()),
            StructField("quarantined_at", TimestampType()),
        ]
    )
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {settings.lake.database}")
    (
        DeltaTable.createIfNotExists(spark)
        .tableName(quarantine_table(table, settings))
        .addColumns(schema)
        .comment(f"Rows of {spec.name} from capture files that failed validation (netqos.quality)")
        .execute()
    )
