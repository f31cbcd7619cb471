"""netqos.observability.export: the textfile is replaced atomically and parses back; the Pushgateway receives the
exposition by POST under the job/sensor group (a real HTTP server records it); export failures never raise."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from prom_samples import key, samples
from prometheus_client import CollectorRegistry, Gauge
from prometheus_client.registry import Collector

from netqos.observability.export import export_job, read_sample, textfile_path, write_textfile
from netqos.settings import ObservabilitySettings, Settings


def registry_with(value: float) -> CollectorRegistry:
    registry = CollectorRegistry()
    Gauge("netqos_job_rows_written", "rows", ["job_name", "table"], registry=registry).labels("x", "packets").set(value)
    return registry


def test_textfile_round_trip_and_mode(tmp_path: Path) -> None:
    path = tmp_path / "metrics" / "x.prom"
    write_textfile(registry_with(42), path)
    assert samples(path.read_text()) == {key("netqos_job_rows_written", job_name="x", table="packets"): 42.0}
    assert path.stat().st_mode & 0o777 == 0o644  # node_exporter may run as another user
    assert os.listdir(path.parent) == ["x.prom"]  # no temporary file left beside it
    assert read_sample(path, "netqos_job_rows_written", {"table": "packets"}) == 42.0
    assert read_sample(path, "netqos_job_rows_written", {"table": "flows"}) is None
    assert read_sample(tmp_path / "missing.prom", "netqos_job_rows_written", {}) is None


class Broken(Collector):
    def collect(self):  # type: ignore[no-untyped-def]
        raise RuntimeError("collector failed mid-write")


def test_failed_write_keeps_the_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "x.prom"
    write_textfile(registry_with(1), path)
    broken = registry_with(2)
    broken.register(Broken())
    with pytest.raises(RuntimeError):
        write_textfile(broken, path)
    assert read_sample(path, "netqos_job_rows_written", {}) == 1.0  # a scraper still reads the old, whole file
    assert os.listdir(tmp_path) == ["x.prom"]


class Recorder(BaseHTTPRequestHandler):
    requests: ClassVar[list[tuple[str, str, bytes]]] = []

    def _record(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Recorder.requests.append((self.command, self.path, body))
        self.send_response(200)
        self.end_headers()

    do_POST = do_PUT = _record

    def log_message(self, *args: object) -> None: ...


@pytest.fixture
def pushgateway() -> Iterator[str]:
    Recorder.requests = []
    server = HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_push_posts_the_exposition_under_job_and_sensor(settings: Settings, pushgateway: str) -> None:
    cfg = ObservabilitySettings(textfile=False, pushgateway_url=pushgateway)
    settings = settings.model_copy(update={"observability": cfg})
    assert export_job(registry_with(7), settings, "parse_pcaps") == [pushgateway]
    [(method, path, body)] = Recorder.requests
    # POST (pushadd) replaces only the names pushed: a failed run keeps the last success time pushed before.
    assert (method, path) == ("POST", "/metrics/job/netqos_parse_pcaps/sensor/edge-1")
    assert samples(body.decode())[key("netqos_job_rows_written", job_name="x", table="packets")] == 7.0
    assert not textfile_path(settings, "parse_pcaps").exists()  # textfile off


def test_export_failures_are_logged_not_raised(tmp_path: Path, settings: Settings) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    cfg = ObservabilitySettings(metrics_dir=blocker / "metrics", pushgateway_url=dead, push_timeout_s=2)
    assert export_job(registry_with(1), settings.model_copy(update={"observability": cfg}), "ingest") == []
