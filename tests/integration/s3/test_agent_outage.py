"""Fault test: the store dies while the agent uploads 100 rotated files and comes back; every file lands once.

The backend is a stand-in that "rotates" 100 prepared captures into the spool (the live backends have their own
tests); the store, the spool and the agent are real.
"""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import pytest
from pcapgen import Record, pcap_file
from s3server import MinioServer

from netqos.capture.agent import Agent
from netqos.capture.model import DropCounters
from netqos.capture.upload import Landing
from netqos.settings import CaptureSettings, S3Settings, Settings
from netqos.storage.s3 import s3_client

N_FILES = 100


class Rotator:
    """Backend stand-in: moves prepared captures into the spool's incoming/ and reports them closed, 10 per poll."""

    name = "rotator"
    pid = None

    def __init__(self, files: list[Path], incoming: Path) -> None:
        self.files = list(files)
        self.incoming = incoming
        self.alive = True

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def poll(self) -> list[Path]:
        batch, self.files = self.files[:10], self.files[10:]
        return [p.rename(self.incoming / p.name) for p in batch]

    def drops(self) -> DropCounters:
        return DropCounters()


def udp_frame(i: int) -> bytes:
    eth = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00"
    ip = bytes([0x45, 0, 0, 29, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2])
    return eth + ip + (5000 + i).to_bytes(2, "big") + b"\x27\x0f\x00\x09\x00\x00" + bytes([i % 256])


@pytest.fixture
def server(tmp_path: Path):
    with MinioServer(tmp_path / "minio") as s:
        yield s


def test_store_outage_during_100_uploads(server: MinioServer, tmp_path: Path) -> None:
    bucket = server.make_bucket("landing")
    s3 = S3Settings(endpoint_url=server.endpoint_url, access_key_id=server.access_key,
                    secret_access_key=server.secret_key, landing_bucket=bucket)  # fmt: skip
    capture = CaptureSettings(interfaces=["stand-in"], spool_dir=tmp_path / "spool", upload_concurrency=4,
                              heartbeat_seconds=0.5)  # fmt: skip
    settings = Settings(sensor_id="edge-9", s3=s3, capture=capture)
    landing = Landing(s3_client(s3), bucket, retries=2, backoff_s=0.1, max_backoff_s=0.3)
    incoming = capture.spool_dir / "incoming"
    prepared = tmp_path / "prepared"
    prepared.mkdir()
    files, shas = [], set()
    for i in range(N_FILES):
        data = pcap_file([Record(udp_frame(i), ts_sec=1_764_237_600 + i, ts_frac=k) for k in range(3)])
        path = prepared / f"rot_{i:05d}.pcap"
        path.write_bytes(data)
        files.append(path)
        shas.add(hashlib.sha256(data).hexdigest())

    agent = Agent(settings, landing, backend=Rotator(files, incoming))
    stop = threading.Event()
    runner = threading.Thread(target=agent.run, args=(stop,), kwargs={"drain_timeout_s": 120})
    runner.start()
    client = server.client()

    def landed() -> int:
        return sum(len(p.get("Contents", [])) for p in client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix="sensor=")) if server.running else -1  # fmt: skip

    deadline = time.monotonic() + 60
    while landed() < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()  # mid-way: uploads in flight fail, the rest wait in the spool
    time.sleep(3.0)
    server.start()
    deadline = time.monotonic() + 120
    while agent.spool.pending() and time.monotonic() < deadline:
        time.sleep(0.2)
    stop.set()
    runner.join(timeout=120)

    keys = [o["Key"] for p in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="sensor=")
            for o in p.get("Contents", [])]  # fmt: skip
    assert len(keys) == N_FILES == len(set(keys))
    landed_shas = {client.head_object(Bucket=bucket, Key=k)["Metadata"]["sha256"] for k in keys}
    bodies = {hashlib.sha256(client.get_object(Bucket=bucket, Key=k)["Body"].read()).hexdigest() for k in keys}
    assert landed_shas == shas == bodies  # 100/100, each file once, bytes intact
    assert agent.spool.pending() == [] and list(incoming.iterdir()) == []
    assert agent.health.upload_failures > 0  # the outage was real
    assert agent.health.files_uploaded == N_FILES
