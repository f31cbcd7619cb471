"""Job metrics against real Delta tables, in the shared Spark session (what the jobs' main() does around run()):

- parse_pcaps on a real capture: parse_pcaps.observe inside job_metrics writes a parse_pcaps.prom whose packets
  rows equal the table's count, with the file's ledger status and the packets suite's validation gauge;
- the QoS KPI gauges (qos_windows.observed) equal each (sensor, dimension, class)'s latest window, read from
  windows written to qos_windows directly (featurizing for real would cost a minute of the suite).
"""

from __future__ import annotations

from datetime import date

import pytest
from prometheus_client.parser import text_string_to_metric_families

from netqos.jobs import parse_pcaps, qos_windows
from netqos.lake.tables import QOS_WINDOWS, ensure_tables
from netqos.observability.export import textfile_path
from netqos.observability.job_run import job_metrics
from netqos.settings import ObservabilitySettings, Settings

pytestmark = [pytest.mark.spark, pytest.mark.integration]

CAPTURE = "zeek-5-pings.pcap"  # 10 frames: the cost is the job's fixed part (quality gate, Delta commits)
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def prom(settings: Settings, job: str) -> Samples:
    text = textfile_path(settings, job).read_text()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def by(got: Samples, name: str, *labels: str) -> dict[tuple[str, ...], float]:
    return {tuple(dict(lbl)[x] for x in labels): v for (n, lbl), v in got.items() if n == name}


@pytest.fixture
def observed_settings(settings: Settings, tmp_path) -> Settings:
    return settings.model_copy(
        update={"sensor_id": "edge-1", "observability": ObservabilitySettings(metrics_dir=tmp_path / "metrics")}
    )


def test_parse_pcaps_metrics_match_the_table(spark, observed_settings: Settings, capture_dir, manifest) -> None:
    settings = observed_settings
    paths = [str(capture_dir(CAPTURE) / CAPTURE)]
    with job_metrics("parse_pcaps", settings, "obs-run-1", suites=["packets"]) as m:
        parse_pcaps.observe(m, parse_pcaps.run(spark, paths, settings, run_id="obs-run-1"))
    got = prom(settings, "parse_pcaps")
    packets = spark.table(f"{settings.lake.database}.packets").count()
    assert packets == manifest[CAPTURE]  # capinfos count
    assert by(got, "netqos_job_rows_written", "table") == {("packets",): packets, ("ingest_ledger",): 1}
    assert by(got, "netqos_job_files", "status") == {
        ("ingested",): 1, ("failed",): 0, ("conflict",): 0, ("quarantined",): 0, ("skipped",): 0,
    }  # fmt: skip
    assert by(got, "netqos_job_validation_failures", "suite") == {("packets",): 0}
    assert by(got, "netqos_job_success", "job_name") == {("parse_pcaps",): 1}


def window(sensor: str, window_s: int, start_s: int, dimension: str, cls: str, rtt: float | None, n: int) -> dict:
    return {
        "sensor_id": sensor, "window_s": window_s, "window_start_ns": start_s * 10**9, "dimension": dimension,
        "class": cls, "packets": n, "rtt_p95_s": rtt, "tcp_retransmission_rate": n / 1e5, "jitter_p95_s": None,
        "window_date": date.fromtimestamp(start_s),
    }  # fmt: skip


def test_qos_kpi_gauges_show_the_latest_window(spark, observed_settings: Settings) -> None:
    settings = observed_settings
    ensure_tables(spark, settings, (QOS_WINDOWS,))
    t0 = 1_764_288_000  # 2025-11-28 00:00 UTC
    rows = [
        window("edge-1", 60, t0, "all", "all", 0.050, 100),
        window("edge-1", 60, t0 + 60, "all", "all", 0.080, 200),  # latest of edge-1 / all
        window("edge-1", 10, t0 + 110, "all", "all", 0.900, 9),  # another window length: not shown
        window("edge-1", 60, t0, "dscp", "ef", None, 50),  # no RTT samples: no RTT gauge
        window("edge-2", 60, t0 + 3600, "service", "web", 0.200, 300),
        window("edge-3", 60, t0 + 60, "all", "all", 0.300, 400),  # not recomputed by this run: not read
    ]
    columns = QOS_WINDOWS.column_names
    df = spark.createDataFrame([tuple(r.get(c) for c in columns) for r in rows], QOS_WINDOWS.schema)
    df.writeTo(QOS_WINDOWS.qualified(settings)).append()
    report = qos_windows.WindowReport(qos_windows.WindowPlan({"edge-1": t0, "edge-2": t0}, ["sha"]), len(rows))
    with job_metrics("qos_windows", settings) as m:
        qos_windows.observed(m, spark, settings, report)
    got = prom(settings, "qos_windows")
    keys = ("sensor", "dimension", "class")
    assert by(got, "netqos_qos_rtt_p95_seconds", *keys) == {
        ("edge-1", "all", "all"): 0.080, ("edge-2", "service", "web"): 0.200,
    }  # fmt: skip
    assert by(got, "netqos_qos_window_packets", *keys) == {
        ("edge-1", "all", "all"): 200, ("edge-1", "dscp", "ef"): 50, ("edge-2", "service", "web"): 300,
    }  # fmt: skip
    assert by(got, "netqos_qos_window_end_timestamp_seconds", *keys)[("edge-2", "service", "web")] == t0 + 3660
    assert not by(got, "netqos_qos_jitter_p95_seconds", *keys)
    assert by(got, "netqos_job_rows_written", "table") == {("qos_windows",): len(rows)}
