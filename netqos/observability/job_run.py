"""The hook around a batch job's main(): logging set up, metrics collected, exported when the job ends.

    with job_metrics("qos_windows", settings, run_id) as m:
        report, timings = in_session(...)
        m.rows("qos_windows", report.windows)

Ends with duration, success (an exception or m.fail() = failed), last success time, and the validation outcomes
the run's quality gates recorded (netqos.quality.run_record), exported as settings.observability says.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from netqos.observability.export import export_job, read_sample, textfile_path
from netqos.observability.logs import configure_logging
from netqos.observability.metrics import JOB, LAST_SUCCESS, JobMetrics
from netqos.settings import Settings

log = logging.getLogger("netqos.jobs")


def record_validation(m: JobMetrics, settings: Settings, run_id: str, suites: Sequence[str]) -> None:
    """Failed expectations and quarantined files per suite, from the outcomes the run's gates recorded. Only this
    job's suites: a DAG run's tasks share its run_id, and each suite must be counted by one job."""
    from netqos.quality.run_record import recorded

    for outcome in recorded(run_id, settings):
        if outcome.table in suites:
            m.validation(outcome.table, len(outcome.failures), len(outcome.bad_files) if not outcome.success else 0)


def previous_success(settings: Settings, job: str) -> float | None:
    if not settings.observability.textfile:
        return None
    return read_sample(textfile_path(settings, job), LAST_SUCCESS, {JOB: job})


@contextmanager
def job_metrics(
    job: str, settings: Settings, run_id: str | None = None, suites: Sequence[str] = ()
) -> Iterator[JobMetrics]:
    """`suites`: the quality suites (tables) this job validates, read back from the run's records."""
    configure_logging(settings, job=job, run_id=run_id, sensor=settings.sensor_id)
    m = JobMetrics(job)
    started = time.monotonic()
    log.info("%s started", job, extra={"event": "job_started"})
    success = False
    try:
        yield m
        success = not m.failed
    finally:
        duration = time.monotonic() - started
        try:
            if run_id is not None and suites:
                record_validation(m, settings, run_id, suites)
        except Exception as exc:  # an unreadable record must not hide the job's own outcome
            log.warning("validation records of run %s not read: %s", run_id, exc)
        m.finish(
            duration_s=duration, ended_at=time.time(), success=success, last_success=previous_success(settings, job)
        )
        where = export_job(m.registry, settings, job)
        log.log(
            logging.INFO if success else logging.ERROR,
            "%s %s in %.1fs",
            job,
            "succeeded" if success else "failed",
            duration,
            extra={"event": "job_finished", "success": success, "duration_s": round(duration, 3), "metrics": where},
        )
