"""The batch jobs' metrics: one registry per job run, holding what the run did (gauges, exported at its end).

Gauges, not counters: each run is its own short process, so the textfile and the Pushgateway hold the last
run's numbers; Prometheus keeps the history. Labels stay bounded: job name, table / suite / ledger status, and
sensor x (dimension, class) for the QoS KPIs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Gauge

LAST_SUCCESS = "netqos_job_last_success_timestamp_seconds"
JOB = "job_name"  # not "job": Prometheus sets that label itself from the scrape config or the push group

# The QoS KPIs a job-end gauge shows per sensor and class: qos_windows column -> metric name.
QOS_KPI_METRICS = {
    "rtt_p95_s": "netqos_qos_rtt_p95_seconds",
    "tcp_retransmission_rate": "netqos_qos_tcp_retransmission_rate",
    "jitter_p95_s": "netqos_qos_jitter_p95_seconds",
    "packets": "netqos_qos_window_packets",
}
KPI_LABELS = ("sensor", "dimension", "class")


@dataclass(frozen=True)
class KpiRow:
    """A sensor's latest window of one (dimension, class): the values the KPI gauges show."""

    sensor: str
    dimension: str
    class_: str
    window_end_s: float
    values: Mapping[str, float | None]  # qos_windows column -> value (None: no samples in the window)


class JobMetrics:
    def __init__(self, job: str) -> None:
        self.job = job
        self.registry = CollectorRegistry()
        r = self.registry
        self._duration = Gauge("netqos_job_duration_seconds", "Wall time of the last run", [JOB], registry=r)
        self._last_run = Gauge(
            "netqos_job_last_run_timestamp_seconds", "When the last run ended (Unix time)", [JOB], registry=r
        )
        self._success = Gauge("netqos_job_success", "1 if the last run succeeded, else 0", [JOB], registry=r)
        self._rows = Gauge(
            "netqos_job_rows_written", "Rows the last run wrote (or replaced) per table", [JOB, "table"], registry=r
        )
        self._files = Gauge(
            "netqos_job_files", "Capture files the last run handled, by ingest_ledger status", [JOB, "status"],
            registry=r,
        )  # fmt: skip
        self._quarantined = Gauge(
            "netqos_job_files_quarantined", "Files the last run's quality gate quarantined, per table",
            [JOB, "table"], registry=r,
        )  # fmt: skip
        self._validation = Gauge(
            "netqos_job_validation_failures", "Failed expectations in the last run, per suite (table)",
            [JOB, "suite"], registry=r,
        )  # fmt: skip
        self._kpis = {
            column: Gauge(name, f"qos_windows.{column} of the sensor's latest window", KPI_LABELS, registry=r)
            for column, name in QOS_KPI_METRICS.items()
        }
        self._kpi_end = Gauge(
            "netqos_qos_window_end_timestamp_seconds", "End of the window the KPI gauges show", KPI_LABELS,
            registry=r,
        )  # fmt: skip
        self._last_success: Gauge | None = None
        self.failed = False

    def rows(self, table: str, n: int) -> None:
        self._rows.labels(self.job, table).set(n)

    def files(self, by_status: Mapping[str, int]) -> None:
        for status, n in by_status.items():
            self._files.labels(self.job, status).set(n)

    def validation(self, suite: str, failures: int, quarantined_files: int) -> None:
        self._validation.labels(self.job, suite).set(failures)
        self._quarantined.labels(self.job, suite).set(quarantined_files)

    def qos_kpis(self, rows: Iterable[KpiRow]) -> None:
        for row in rows:
            labels = (row.sensor, row.dimension, row.class_)
            self._kpi_end.labels(*labels).set(row.window_end_s)
            for column, value in row.values.items():
                if value is not None and column in self._kpis:
                    self._kpis[column].labels(*labels).set(value)

    def fail(self) -> None:
        """Mark the run failed when main() turns a failure into an exit code instead of raising."""
        self.failed = True

    def finish(self, *, duration_s: float, ended_at: float, success: bool, last_success: float | None) -> None:
        """`last_success`: the previous successful run's time, kept when this run failed (None: unknown)."""
        self._duration.labels(self.job).set(duration_s)
        self._last_run.labels(self.job).set(ended_at)
        self._success.labels(self.job).set(1 if success else 0)
        value = ended_at if success else last_success
        if value is not None:
            # Registered only when known: a Pushgateway POST without this name keeps the value pushed before.
            self._last_success = Gauge(
                LAST_SUCCESS, "When the last successful run ended (Unix time)", [JOB], registry=self.registry
            )
            self._last_success.labels(self.job).set(value)
