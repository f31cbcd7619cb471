"""Task bodies that are not Spark jobs. Each logs what it did; none reads the clock (data intervals only)."""

from __future__ import annotations

import logging

log = logging.getLogger("netqos.orchestration")


def check_quality(run_id: str) -> str:
    """The run's quality gate: read what each job's validation recorded for this run, publish Data Docs, and fail
    the task without retries (a failed expectation does not heal on retry) when anything was quarantined."""
    from airflow.sdk.exceptions import AirflowFailException

    from netqos.quality import build_data_docs
    from netqos.quality.run_record import recorded
    from netqos.settings import Settings

    settings = Settings()
    outcomes = recorded(run_id, settings)
    if not outcomes:
        message = f"run {run_id}: no new rows were validated (nothing landed or everything was already ingested)"
        log.info(message)
        return message
    docs = build_data_docs(outcomes, settings)
    lines = [
        f"{o.table}: {'passed' if o.success else 'FAILED'}, {len(o.files_checked)} files checked"
        + (f", quarantined {len(o.bad_files)}: {', '.join(sorted(o.bad_files))}" if o.bad_files else "")
        for o in outcomes
    ]
    summary = f"run {run_id} data quality:\n  " + "\n  ".join(lines) + f"\nData Docs: {docs}"
    failed = [o for o in outcomes if not o.success]
    if failed:
        details = "\n".join(f"  {o.table}: {f.describe()}" for o in failed for f in o.failures)
        raise AirflowFailException(f"{summary}\nfailed expectations:\n{details}")
    log.info(summary)
    return summary
