"""Cross-table checks GX cannot express: each file's rows against its ingest_ledger row (Spark SQL).

    packets       rows per file == ledger.packets, every ts_ns inside [first_ts, last_ts], file in the ledger
    tcp_analysis  rows per file <= ledger.packets, ts_ns inside the bounds, file in the ledger
    flows         first_ts_ns inside the bounds of first_file_sha256, file in the ledger
Ledger timestamps are microseconds (floor of ts_ns), so bounds compare floor(ts_ns / 1000) with them.
Pass the ledger rows of exactly this batch's files: for packets a ledger file with no rows is a count mismatch.
"""

from __future__ import annotations

from typing import Any

from netqos.quality.outcome import FailedExpectation

ROWS_MATCH = "netqos_expect_file_rows_to_match_ledger"
ROWS_AT_MOST = "netqos_expect_file_rows_at_most_ledger_packets"
TS_BOUNDS = "netqos_expect_file_timestamps_within_ledger_bounds"
IN_LEDGER = "netqos_expect_file_in_ledger"

# table -> (timestamp column checked against the bounds, row-count rule)
_CHECKS: dict[str, tuple[str, str | None]] = {
    "packets": ("ts_ns", ROWS_MATCH),
    "tcp_analysis": ("ts_ns", ROWS_AT_MOST),
    "flows": ("first_ts_ns", None),
}


def applies_to(table: str) -> bool:
    return table in _CHECKS


def file_stats(df: Any, ledger_df: Any, table: str, file_col: str) -> list[dict[str, Any]]:
    """Per file: rows, min/max ts (µs) in df, and the ledger's packets and bounds (µs); one row per file."""
    from pyspark.sql import functions as F

    ts_col, _ = _CHECKS[table]
    micros = f"(`{ts_col}` - pmod(`{ts_col}`, 1000)) div 1000"
    stats = df.groupBy(F.col(file_col).alias("file")).agg(
        F.count(F.lit(1)).alias("rows"),
        F.expr(f"min({micros})").alias("min_us"),
        F.expr(f"max({micros})").alias("max_us"),
    )
    ledger = (
        ledger_df.where(F.col("status") == "ingested")
        .groupBy(F.col("sha256").alias("file"))
        .agg(
            F.max("packets").alias("ledger_packets"),
            F.expr("unix_micros(min(first_ts))").alias("ledger_first_us"),
            F.expr("unix_micros(max(last_ts))").alias("ledger_last_us"),
            F.lit(True).alias("in_ledger"),
        )
    )
    how = "full_outer" if table == "packets" else "left"
    return [r.asDict() for r in stats.join(ledger, "file", how).collect()]


def ledger_failures(table: str, stats: list[dict[str, Any]]) -> list[FailedExpectation]:
    """Turn file_stats rows into failures, one per check kind, naming the files that broke it."""
    _, count_rule = _CHECKS[table]
    missing: dict[str, Any] = {}
    counts: dict[str, Any] = {}
    bounds: dict[str, Any] = {}
    for s in stats:
        sha, rows = s["file"], s.get("rows") or 0
        if not s.get("in_ledger"):
            missing[sha] = {"rows": rows}
            continue
        ledger_packets = s.get("ledger_packets")
        if count_rule == ROWS_MATCH and rows != (ledger_packets or 0):
            counts[sha] = {"rows": rows, "ledger_packets": ledger_packets}
        if count_rule == ROWS_AT_MOST and ledger_packets is not None and rows > ledger_packets:
            counts[sha] = {"rows": rows, "ledger_packets": ledger_packets}
        lo, hi, first, last = s.get("min_us"), s.get("max_us"), s.get("ledger_first_us"), s.get("ledger_last_us")
        if lo is not None and (first is None or last is None or lo < first or hi > last):
            bounds[sha] = {"min_us": lo, "max_us": hi, "ledger_first_us": first, "ledger_last_us": last}
    out = []
    for etype, bad, kwargs in (
        (IN_LEDGER, missing, {"ledger": "ingest_ledger", "status": "ingested"}),
        (count_rule, counts, {"ledger_column": "packets"}),
        (TS_BOUNDS, bounds, {"column": _CHECKS[table][0], "ledger_columns": ["first_ts", "last_ts"]}),
    ):
        if bad and etype:
            out.append(
                FailedExpectation(
                    expectation_type=etype,
                    kwargs={"table": table, **kwargs},
                    observed_value=bad,
                    unexpected_count=len(bad),
                    files=tuple(sorted(bad)),
                    source="ledger",
                )
            )
    return out
