"""Data quality gate: one Great Expectations suite per table (expectations/*.json) plus Spark SQL checks against
the ingest ledger, with per-file attribution so a run can quarantine the bad capture files and keep the rest.

    outcome = validate(spark, df, "packets", run_id=run_id, ledger_df=ledger)
    quarantine(spark, df, "packets", outcome, settings)   # rows of outcome.bad_files -> quarantine_packets
    raise_for_failure(outcome)                             # or let the clean files through
    build_data_docs([outcome], settings)                   # static HTML (docs/quality.md)
"""

from netqos.quality.data_docs import build_data_docs, data_docs_dir
from netqos.quality.outcome import FailedExpectation, ValidationFailed, ValidationOutcome, raise_for_failure
from netqos.quality.quarantine import quarantine, quarantine_table
from netqos.quality.suites import TABLES, file_column, load_suite
from netqos.quality.validation import validate

__all__ = [
    "TABLES",
    "FailedExpectation",
    "ValidationFailed",
    "ValidationOutcome",
    "build_data_docs",
    "data_docs_dir",
    "file_column",
    "load_suite",
    "quarantine",
    "quarantine_table",
    "raise_for_failure",
    "validate",
]
