"""validate(): the table's GX suite, then the ledger checks, folded into one ValidationOutcome."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from netqos.quality.attribution import ROW_LEVEL, RowCheck, files_by_check
from netqos.quality.gx_runner import is_pandas, run_suite
from netqos.quality.ledger_checks import applies_to, file_stats, ledger_failures
from netqos.quality.outcome import FailedExpectation, ValidationOutcome
from netqos.quality.suites import EXPECTATIONS_DIR, file_column, read_suite_dict

DEFAULT_WINDOW_SECONDS = (10, 60)


def validate(
    spark: Any,
    df: Any,
    table: str,
    *,
    run_id: str,
    ledger_df: Any = None,
    window_seconds: Sequence[int] = DEFAULT_WINDOW_SECONDS,
    extra_columns: Sequence[str] = (),
    expectations_dir: Path = EXPECTATIONS_DIR,
) -> ValidationOutcome:
    """Validate df (rows for `table`; Spark, or pandas in unit tests) against expectations/<table>.json.

    ledger_df: ingest_ledger rows of this batch's files, for the cross-table checks (skipped when None).
    window_seconds: the configured QoS window lengths (settings.features.window_seconds), a suite parameter.
    extra_columns: columns df may carry beyond the table's schema (feature plugins' columns), left out of the check.
    expectations_dir: where <table>.json lives (settings.quality.expectations_dir).
    spark is unused today; it is in the signature so the checks may run SQL without a DataFrame at hand."""
    del spark
    if extra := [c for c in extra_columns if c in df.columns]:
        df = df.drop(columns=extra) if is_pandas(df) else df.drop(*extra)
    suite = read_suite_dict(table, expectations_dir)
    file_col = file_column(table)
    result = run_suite(df, suite, parameters={"window_seconds": list(window_seconds)}, run_name=run_id)
    failures = _gx_failures(result)
    failures = _attribute(df, file_col, failures)
    if ledger_df is not None and file_col is not None and applies_to(table):
        stats = file_stats(df, ledger_df, table, file_col)
        failures += ledger_failures(table, stats)
        files = tuple(sorted(str(s["file"]) for s in stats if s.get("rows") and s["file"] is not None))
    else:
        files = _distinct_files(df, file_col)
    return ValidationOutcome(
        table=table,
        run_id=run_id,
        success=not failures,
        failures=tuple(failures),
        files_checked=files,
        gx_result=result,
        file_column=file_col,
    )


def _gx_failures(result: dict[str, Any]) -> list[FailedExpectation]:
    out = []
    for r in result["results"]:
        if r["success"]:
            continue
        cfg, res = r["expectation_config"], r.get("result") or {}
        kwargs = {k: v for k, v in cfg["kwargs"].items() if k != "batch_id"}
        observed = res.get("observed_value")
        if message := _exception(r.get("exception_info")):
            observed = {"exception": message}
        out.append(
            FailedExpectation(
                expectation_type=cfg["type"],
                kwargs=kwargs,
                observed_value=observed,
                unexpected_count=res.get("unexpected_count"),
                partial_unexpected_list=list(res.get("partial_unexpected_list") or []),
            )
        )
    return out


def _attribute(df: Any, file_col: str | None, failures: list[FailedExpectation]) -> list[FailedExpectation]:
    """Name the files behind each failed row-level expectation (others stay files=None: the whole batch)."""
    if file_col is None:
        return failures
    present = set(df.columns)
    idx = [
        i
        for i, f in enumerate(failures)
        if f.expectation_type in ROW_LEVEL and f.observed_value is None and _columns(f) <= present
    ]
    found = files_by_check(df, file_col, [RowCheck(failures[i].expectation_type, failures[i].kwargs) for i in idx])
    out = list(failures)
    for i, files in zip(idx, found, strict=True):
        # Unexpected rows without a file (null file column) cannot be quarantined by file: keep files=None.
        if files:
            out[i] = _with_files(failures[i], tuple(sorted(files)))
    return out


def _exception(info: Any) -> str | None:
    """GX puts {raised_exception, exception_message} directly, or one such dict per failed metric."""
    if not isinstance(info, dict):
        return None
    if "raised_exception" in info:
        return str(info.get("exception_message")) if info["raised_exception"] else None
    messages = [
        str(v.get("exception_message")) for v in info.values() if isinstance(v, dict) and v.get("raised_exception")
    ]
    return "; ".join(messages) or None


def _columns(f: FailedExpectation) -> set[str]:
    return {str(f.kwargs[k]) for k in ("column", "column_A", "column_B") if k in f.kwargs}


def _with_files(f: FailedExpectation, files: tuple[str, ...]) -> FailedExpectation:
    from dataclasses import replace

    return replace(f, files=files)


def _distinct_files(df: Any, file_col: str | None) -> tuple[str, ...]:
    if file_col is None:
        return ()
    if is_pandas(df):
        return tuple(sorted(df[file_col].dropna().astype(str).unique()))
    return tuple(sorted(str(r[0]) for r in df.select(file_col).distinct().collect() if r[0] is not None))
