"""The whole agent (`python -m netqos capture`) live: a veth pair between two namespaces, a real MinIO, real
traffic. Fault tests with numbers: packets sent = packets landed + kernel drops over >= 10 rotations; SIGKILL of
the agent mid-rotation loses no closed file and lands nothing twice. Needs root and `ip netns`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.compute as pc
import pytest
from s3server import MinioServer

from netqos.decode.readers import decode_file
from netqos.lab.netns import VethLink, netns_available

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

UDP_PORT = 9999
# One socket per datagram, bound to source port 20000 + i: each datagram is identifiable in the captures.
SENDER = textwrap.dedent(
    """
    import socket, sys, time
    host, port, n, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    start = time.monotonic()
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("", 20000 + i))
        s.sendto(b"netqos-%06d" % i, (host, port))
        s.close()
        time.sleep(max(0.0, start + (i + 1) / rate - time.monotonic()))
    print(n, flush=True)
    """
)


@pytest.fixture
def link() -> Iterator[VethLink]:
    if not netns_available():
        pytest.skip("needs root and network namespaces (ip netns)")
    with VethLink(f"nqa{os.getpid() % 10000}") as lk:
        yield lk


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MinioServer]:
    with MinioServer(tmp_path / "minio") as server:
        yield server


def start_agent(link: VethLink, store: MinioServer, bucket: str, spool: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "NETQOS_S3__ACCESS_KEY_ID": store.access_key,  # credentials through the environment only
        "NETQOS_S3__SECRET_ACCESS_KEY": store.secret_key,
        "NETQOS_CAPTURE__HEARTBEAT_SECONDS": "1",
    }
    argv = [
        sys.executable, "-m", "netqos", "capture", "-i", link.dev_a, "--netns", link.ns_a, "-f", f"udp port {UDP_PORT}",
        "--rotate-seconds", "1", "--sensor", "live-1", "--spool", str(spool), "--bucket", bucket,
        "--endpoint", store.endpoint_url,
    ]  # fmt: skip
    proc = subprocess.Popen(argv, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while "capturing on" not in log.read_text() and time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        time.sleep(0.1)
    time.sleep(1.0)  # dumpcap is up before the agent logs; a little margin for its first file
    return proc


def send(link: VethLink, n: int, rate: float) -> subprocess.Popen[bytes]:
    return link.popen_a([sys.executable, "-c", SENDER, link.addr_b, str(UDP_PORT), str(n), str(rate)],
                        stdout=subprocess.PIPE)  # fmt: skip


def landed(store: MinioServer, bucket: str) -> list[dict]:
    client = store.client()
    out = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="sensor=live-1/"):
        for obj in page.get("Contents", []):
            meta = client.head_object(Bucket=bucket, Key=obj["Key"])["Metadata"]
            out.append({"key": obj["Key"], **meta})
    return out


def datagram_ids(store: MinioServer, bucket: str, keys: list[str], tmp: Path) -> list[int]:
    """Source ports (= datagram numbers + 20000) of our datagrams in the landed objects, decoded here."""
    ids: list[int] = []
    client = store.client()
    for i, key in enumerate(keys):
        path = tmp / f"obj{i}.pcapng"
        client.download_file(bucket, key, str(path))
        table = decode_file(path)
        mask = pc.equal(table.column("dst_port"), UDP_PORT)
        ids += [p - 20000 for p in table.filter(mask).column("src_port").to_pylist()]
    return ids


def test_sent_equals_landed_plus_drops_over_ten_rotations(link, store, tmp_path) -> None:
    bucket = store.make_bucket("live-count")
    agent = start_agent(link, store, bucket, tmp_path / "spool", tmp_path / "agent.log")
    cmdline = Path(f"/proc/{agent.pid}/cmdline").read_bytes()
    assert store.secret_key.encode() not in cmdline and store.access_key.encode() not in cmdline  # not in `ps`
    n = 2400
    sender = send(link, n, rate=200.0)  # 12 s at 200 datagrams/s
    assert sender.wait(timeout=60) == 0
    time.sleep(1.5)
    agent.send_signal(signal.SIGTERM)
    assert agent.wait(timeout=90) == 0, (tmp_path / "agent.log").read_text()[-3000:]
    objects = landed(store, bucket)
    assert len(objects) >= 10, f"{len(objects)} files: fewer than 10 rotations"
    packets = sum(int(o["packets"]) for o in objects)
    drops = sum(int(o["ps-drop"]) + int(o["ps-ifdrop"]) for o in objects)
    assert packets + drops == n, (packets, drops)
    assert not list((tmp_path / "spool" / "ready").glob("*.pcap*"))  # nothing left behind
    heartbeat = json.loads(store.client().get_object(Bucket=bucket, Key="_health/sensor=live-1.json")["Body"].read())
    assert heartbeat["packets_captured"] == packets and heartbeat["files_pending"] == 0
    ids = datagram_ids(store, bucket, [o["key"] for o in objects], tmp_path)
    assert sorted(ids) == list(range(packets)) if drops == 0 else len(ids) == len(set(ids))
    log = (tmp_path / "agent.log").read_text()
    assert store.secret_key not in log and store.access_key not in log


def test_sigkill_mid_rotation_loses_no_file_and_lands_none_twice(link, store, tmp_path) -> None:
    bucket = store.make_bucket("live-kill")
    spool, log = tmp_path / "spool", tmp_path / "agent.log"
    agent = start_agent(link, store, bucket, spool, log)
    sender = send(link, 1600, rate=200.0)  # 8 s of traffic across the kill and the restart
    time.sleep(3.3)  # mid-rotation: a file is open
    agent.send_signal(signal.SIGKILL)
    agent.wait(timeout=10)
    orphan = int((spool / "backend.pid").read_text())
    assert Path(f"/proc/{orphan}").exists()  # the capture tool outlived the agent and is still writing
    agent = start_agent(link, store, bucket, spool, log)  # same spool: recovers, ends the orphan
    assert sender.wait(timeout=60) == 0
    time.sleep(1.5)
    agent.send_signal(signal.SIGTERM)
    assert agent.wait(timeout=90) == 0, log.read_text()[-3000:]

    objects = landed(store, bucket)
    keys = [o["key"] for o in objects]
    with_packets = [o for o in objects if int(o["packets"]) > 0]  # header-only files may be byte-identical
    assert len(keys) == len(set(keys)) and len({o["sha256"] for o in with_packets}) == len(with_packets)
    # The orphan ended: killed by the new agent, or by SIGPIPE at its next rotation (its stdout reader is gone).
    assert not Path(f"/proc/{orphan}").exists() or "Z" in Path(f"/proc/{orphan}/stat").read_text().split()[2]
    assert "files a previous agent left behind" in log.read_text()  # its files were recovered, not lost
    ids = datagram_ids(store, bucket, keys, tmp_path)
    assert len(ids) == len(set(ids)), "a datagram landed twice"
    # datagrams from before the kill, from the orphan's last file, and after the restart all landed
    assert min(ids) < 100 and max(ids) > 1500
    packets = sum(int(o["packets"]) for o in objects)
    assert packets == len(ids)  # metadata counts = what the files hold
    assert not list((spool / "ready").glob("*.pcap*")) and not list((spool / "incoming").glob("*.pcap*"))
