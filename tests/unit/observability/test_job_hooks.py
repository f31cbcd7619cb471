"""Every batch job's main() exports its metrics: each main runs with Spark and its run() stubbed out, and its
<job>.prom must say it ran, whether it succeeded, and the rows its report says it wrote."""

from __future__ import annotations

import sys
import types
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prom_samples import key, samples

from netqos.jobs import (
    alerts,
    build_flows,
    ingest,
    maintenance,
    nightly_report,
    parse_pcaps,
    qos_windows,
    score_windows,
    train_models,
)
from netqos.lake.ledger import LedgerEntry

NOW = datetime(2026, 11, 28, tzinfo=UTC)


@pytest.fixture
def metrics_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in [n for n in __import__("os").environ if n.startswith("NETQOS_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NETQOS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NETQOS_OBSERVABILITY__METRICS_DIR", str(tmp_path / "metrics"))
    return tmp_path / "metrics"


def no_spark(module: types.ModuleType, monkeypatch: pytest.MonkeyPatch, result: Any) -> None:
    """in_session calls the body with no session; run() returns `result`."""
    monkeypatch.setattr(module, "in_session", lambda settings, name, body: (body(None), {"job": 0.1}))
    monkeypatch.setattr(module, "run", lambda *args, **kwargs: result)


def entry(status: str, packets: int) -> LedgerEntry:
    return LedgerEntry(f"/c/{status}.pcap", 1, status, NOW, "pcap", packets, None, None, [], status, None, NOW, "s")  # type: ignore[arg-type]


def read(metrics_dir: Path, job: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return samples((metrics_dir / f"{job}.prom").read_text())


def rows(got: dict[tuple[str, frozenset[tuple[str, str]]], float]) -> dict[str, float]:
    return {dict(lbl)["table"]: v for (n, lbl), v in got.items() if n == "netqos_job_rows_written"}


def test_parse_pcaps(metrics_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = parse_pcaps.IngestReport([entry("ingested", 7), entry("ingested", 3), entry("failed", 0)], [])
    no_spark(parse_pcaps, monkeypatch, report)
    monkeypatch.setattr(parse_pcaps, "print_report", lambda *a: None)
    assert parse_pcaps.main(["x.pcap"]) == 0
    got = read(metrics_dir, "parse_pcaps")
    assert rows(got) == {"packets": 10, "ingest_ledger": 3}
    assert got[key("netqos_job_files", job_name="parse_pcaps", status="failed")] == 1
    assert got[key("netqos_job_success", job_name="parse_pcaps")] == 1


def test_ingest_records_every_stage(metrics_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = ingest.IngestRun(
        parse=parse_pcaps.IngestReport([entry("ingested", 5)], []),
        flows=build_flows.FlowReport(build_flows.FlowPlan(), 5, 2),
        windows=qos_windows.WindowReport(qos_windows.WindowPlan({}, []), 4),
    )
    no_spark(ingest, monkeypatch, result)
    monkeypatch.setattr(ingest, "print_report", lambda *a: None)
    assert ingest.main(["s3://landing/"]) == 0
    assert rows(read(metrics_dir, "ingest")) == {
        "packets": 5, "ingest_ledger": 1, "tcp_analysis": 5, "flows": 2, "qos_windows": 4,
    }  # fmt: skip


def test_build_flows_and_qos_windows(metrics_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    no_spark(build_flows, monkeypatch, build_flows.FlowReport(build_flows.FlowPlan(), 11, 3))
    monkeypatch.setattr(build_flows, "print_report", lambda *a: None)
    assert build_flows.main([]) == 0
    assert rows(read(metrics_dir, "build_flows")) == {"tcp_analysis": 11, "flows": 3}
    no_spark(qos_windows, monkeypatch, qos_windows.WindowReport(qos_windows.WindowPlan({}, []), 6))
    assert qos_windows.main([]) == 0
    assert rows(read(metrics_dir, "qos_windows")) == {"qos_windows": 6}


def test_score_windows_signature_mismatch_is_a_failed_run(metrics_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def mismatch(*args: Any) -> Any:
        raise score_windows.SignatureMismatch("m v1", ["rtt_p95_s"], [], [])

    monkeypatch.setattr(score_windows, "in_session", mismatch)
    assert score_windows.main([]) == 3
    assert read(metrics_dir, "score_windows")[key("netqos_job_success", job_name="score_windows")] == 0


def test_alerts_with_a_failed_delivery_is_a_failed_run(metrics_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    no_spark(alerts, monkeypatch, alerts.AlertReport(rows=2, by_status={"sent": 1, "failed": 1}))
    assert alerts.main([]) == 1
    got = read(metrics_dir, "alerts")
    assert rows(got) == {"alerts": 2}
    assert got[key("netqos_job_success", job_name="alerts")] == 0


def test_nightly_report_maintenance_and_training(metrics_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    no_spark(nightly_report, monkeypatch, (None, None))
    monkeypatch.setattr(nightly_report, "describe", lambda *a: "report")
    assert nightly_report.main(["--date", "2026-11-27"]) == 0
    no_spark(maintenance, monkeypatch, maintenance.MaintenanceReport())
    assert maintenance.main([]) == 0
    fake_train = types.ModuleType("netqos.ml.train")
    fake_train.train_and_report = lambda *a, **k: 2  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "netqos.ml.train", fake_train)
    assert train_models.main([]) == 2
    success = {
        job: read(metrics_dir, job)[key("netqos_job_success", job_name=job)]
        for job in ("nightly_report", "maintenance", "train_models")
    }
    assert success == {"nightly_report": 1, "maintenance": 1, "train_models": 0}
