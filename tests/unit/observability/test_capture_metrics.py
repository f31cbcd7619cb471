"""The capture agent's metrics: read from its Health (HealthCollector), written to <spool>/metrics.prom by the
heartbeat and served on /metrics when observability.agent_port is set. The agent runs for real with a stand-in
backend (prepared captures) and a stand-in store."""

from __future__ import annotations

import socket
import threading
import time
import urllib.request
from pathlib import Path

from pcapgen import Record, pcap_file
from prom_samples import key, samples
from prometheus_client import generate_latest

from netqos.capture.agent import Agent
from netqos.capture.health import Health
from netqos.capture.model import DropCounters, SpoolEntry
from netqos.capture.upload import UploadResult
from netqos.observability.capture_metrics import capture_registry
from netqos.settings import CaptureSettings, ObservabilitySettings, Settings

LABELS = {"sensor": "edge-1", "host": "probe"}
FIRST_TS = 1_764_237_600


def test_metrics_are_read_from_health_at_each_collect() -> None:
    health = Health("edge-1", "probe", "0", "dumpcap", started_at=0.0, files_uploaded=2, kernel_dropped=5)
    registry = capture_registry(health, spool_quota_bytes=1 << 20)
    health.files_uploaded, health.bytes_pending, health.upload_lag_s = 3, 4096, 12.5  # after the registry exists
    got = samples(generate_latest(registry).decode())
    assert got[key("netqos_capture_files_landed_total", **LABELS)] == 3
    assert got[key("netqos_capture_kernel_dropped_total", **LABELS)] == 5
    assert got[key("netqos_capture_spool_bytes", **LABELS)] == 4096
    assert got[key("netqos_capture_spool_quota_bytes", **LABELS)] == 1 << 20
    assert got[key("netqos_capture_upload_lag_seconds", **LABELS)] == 12.5


class Rotator:
    """Backend stand-in: hands the prepared captures to the agent as closed files, all in the first poll."""

    name, pid, alive = "rotator", None, True

    def __init__(self, files: list[Path], incoming: Path) -> None:
        self.files, self.incoming = files, incoming

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def poll(self) -> list[Path]:
        batch, self.files = self.files, []
        return [p.rename(self.incoming / p.name) for p in batch]

    def drops(self) -> DropCounters:
        return DropCounters(received=100, dropped=7, if_dropped=1)


class Store:
    """Landing stand-in: accepts every file (the real one has its own tests against MinIO)."""

    bucket, prefix = "landing", ""

    def __init__(self) -> None:
        self.client = None  # publish() fails on it: the agent logs that and keeps going

    def ensure_bucket(self) -> None: ...

    def sweep_incomplete_uploads(self) -> None: ...

    def upload(self, entry: SpoolEntry) -> UploadResult:
        return UploadResult(f"sensor=edge-1/{entry.path.name}", "uploaded", 1, 0.0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return str(response.read().decode())


def test_agent_exports_landed_files_bytes_lag_and_drops(tmp_path: Path) -> None:
    prepared = tmp_path / "prepared"
    prepared.mkdir()
    files, sizes = [], 0
    for i in range(3):
        data = pcap_file([Record(b"\x00" * 60, ts_sec=FIRST_TS + i, ts_frac=k) for k in range(4)])
        (prepared / f"f{i}.pcap").write_bytes(data)
        files.append(prepared / f"f{i}.pcap")
        sizes += len(data)
    port = free_port()
    capture = CaptureSettings(interfaces=["stand-in"], spool_dir=tmp_path / "spool", heartbeat_seconds=0.1)
    settings = Settings(sensor_id="edge-1", capture=capture, observability=ObservabilitySettings(agent_port=port))
    agent = Agent(settings, Store(), backend=Rotator(files, capture.spool_dir / "incoming"))  # type: ignore[arg-type]
    agent.health.capture_host = "probe"
    stop = threading.Event()
    runner = threading.Thread(target=agent.run, args=(stop,))
    runner.start()
    try:
        deadline = time.monotonic() + 20
        while agent.health.files_uploaded < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        served = samples(scrape(port))
    finally:
        stop.set()
        runner.join(timeout=30)
    assert served[key("netqos_capture_files_landed_total", **LABELS)] == 3
    assert served[key("netqos_capture_bytes_landed_total", **LABELS)] == sizes
    assert served[key("netqos_capture_packets_total", **LABELS)] == 12
    # the last file's last packet is at FIRST_TS + 2 (2025): landed "now", so the lag is its age
    lag = served[key("netqos_capture_landed_lag_seconds", **LABELS)]
    assert abs(lag - (time.time() - (FIRST_TS + 2))) < 60
    written = samples((capture.spool_dir / "metrics.prom").read_text())  # the heartbeat at shutdown
    assert written[key("netqos_capture_kernel_dropped_total", **LABELS)] == 7
    assert written[key("netqos_capture_files_landed_total", **LABELS)] == 3
    assert written[key("netqos_capture_files_pending", **LABELS)] == 0
    try:  # the endpoint ends with the agent
        scrape(port)
        raise AssertionError("the /metrics endpoint still answers after the agent stopped")
    except OSError:
        pass
