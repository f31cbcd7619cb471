"""netqos.observability.job_run.job_metrics around a stand-in job: what the .prom file says after a success, a
failure (raised or m.fail()), with the run's recorded validation outcomes, and the metric names and labels."""

from __future__ import annotations

import pytest
from prom_samples import key, samples

from netqos.observability.export import textfile_path
from netqos.observability.job_run import job_metrics
from netqos.observability.metrics import JobMetrics, KpiRow
from netqos.quality.outcome import FailedExpectation, ValidationOutcome
from netqos.quality.run_record import record
from netqos.settings import Settings


def prom(settings: Settings, job: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return samples(textfile_path(settings, job).read_text())


def test_success_writes_duration_rows_and_last_success(settings: Settings) -> None:
    with job_metrics("parse_pcaps", settings, "run-1") as m:
        m.rows("packets", 1234)
        m.files({"ingested": 3, "quarantined": 1})
    got = prom(settings, "parse_pcaps")
    assert got[key("netqos_job_rows_written", job_name="parse_pcaps", table="packets")] == 1234
    assert got[key("netqos_job_files", job_name="parse_pcaps", status="quarantined")] == 1
    assert got[key("netqos_job_success", job_name="parse_pcaps")] == 1
    ended = got[key("netqos_job_last_run_timestamp_seconds", job_name="parse_pcaps")]
    assert got[key("netqos_job_last_success_timestamp_seconds", job_name="parse_pcaps")] == ended
    assert 0 <= got[key("netqos_job_duration_seconds", job_name="parse_pcaps")] < 5


def test_failure_keeps_the_last_success_time(settings: Settings) -> None:
    with job_metrics("build_flows", settings, "run-1"):
        pass
    first = prom(settings, "build_flows")[key("netqos_job_last_success_timestamp_seconds", job_name="build_flows")]
    with pytest.raises(RuntimeError), job_metrics("build_flows", settings, "run-2"):
        raise RuntimeError("spark died")
    got = prom(settings, "build_flows")
    assert got[key("netqos_job_success", job_name="build_flows")] == 0
    assert got[key("netqos_job_last_success_timestamp_seconds", job_name="build_flows")] == first
    assert got[key("netqos_job_last_run_timestamp_seconds", job_name="build_flows")] >= first


def test_fail_marks_a_run_that_returns_an_exit_code(settings: Settings) -> None:
    with job_metrics("alerts", settings, "run-1") as m:
        m.fail()
    got = prom(settings, "alerts")
    assert got[key("netqos_job_success", job_name="alerts")] == 0
    # never succeeded: no last-success sample at all (not 0, which would read as "1970")
    assert not any(name == "netqos_job_last_success_timestamp_seconds" for name, _ in got)


def outcome(table: str, run_id: str, bad: tuple[str, ...]) -> ValidationOutcome:
    failures = tuple(
        FailedExpectation("expect_column_values_to_not_be_null", {"column": "ts"}, files=(sha,)) for sha in bad
    )
    return ValidationOutcome(table, run_id, not bad, failures, ("a", "b", "c"), {}, "file_sha256")


def test_validation_outcomes_of_the_run_and_the_jobs_own_suites(settings: Settings) -> None:
    record(outcome("packets", "run-7", ("a", "b")), settings)
    record(outcome("flows", "run-7", ()), settings)
    record(outcome("packets", "run-other", ("c",)), settings)
    with job_metrics("parse_pcaps", settings, "run-7", suites=["packets"]):
        pass
    got = prom(settings, "parse_pcaps")
    assert got[key("netqos_job_validation_failures", job_name="parse_pcaps", suite="packets")] == 2
    assert got[key("netqos_job_files_quarantined", job_name="parse_pcaps", table="packets")] == 2
    # flows is another job's suite in the same DAG run: counted there, not here
    assert not any(dict(labels).get("suite") == "flows" for _, labels in got)


def test_qos_kpis_skip_missing_values(settings: Settings) -> None:
    m = JobMetrics("qos_windows")
    m.qos_kpis([
        KpiRow("edge-1", "dscp", "ef", 1_764_000_060.0,
               {"rtt_p95_s": 0.12, "tcp_retransmission_rate": 0.01, "jitter_p95_s": None, "packets": 900.0}),
    ])  # fmt: skip
    from prometheus_client import generate_latest

    got = samples(generate_latest(m.registry).decode())
    labels = {"sensor": "edge-1", "dimension": "dscp", "class": "ef"}
    assert got[key("netqos_qos_rtt_p95_seconds", **labels)] == 0.12
    assert got[key("netqos_qos_tcp_retransmission_rate", **labels)] == 0.01
    assert got[key("netqos_qos_window_end_timestamp_seconds", **labels)] == 1_764_000_060.0
    assert key("netqos_qos_jitter_p95_seconds", **labels) not in got  # no jitter samples: no value, not 0


def test_metric_names_and_labels(settings: Settings) -> None:
    """The names and label sets the dashboards and docs rely on."""
    with job_metrics("ingest", settings, "run-1") as m:
        m.rows("flows", 1)
        m.files({"ingested": 1})
        m.validation("flows", 0, 0)
        m.qos_kpis([KpiRow("s", "all", "all", 1.0, {"rtt_p95_s": 0.1})])
    labels = {name: set(dict(lbl)) for name, lbl in prom(settings, "ingest")}
    assert labels == {
        "netqos_job_duration_seconds": {"job_name"},
        "netqos_job_last_run_timestamp_seconds": {"job_name"},
        "netqos_job_last_success_timestamp_seconds": {"job_name"},
        "netqos_job_success": {"job_name"},
        "netqos_job_rows_written": {"job_name", "table"},
        "netqos_job_files": {"job_name", "status"},
        "netqos_job_files_quarantined": {"job_name", "table"},
        "netqos_job_validation_failures": {"job_name", "suite"},
        "netqos_qos_rtt_p95_seconds": {"sensor", "dimension", "class"},
        "netqos_qos_window_end_timestamp_seconds": {"sensor", "dimension", "class"},
    }
