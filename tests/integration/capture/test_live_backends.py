"""Each capture backend live on a veth pair: 1 s rotation for ~4 s of TCP + UDP traffic, then stop.

The backend runs inside namespace A (`netns=`), the traffic goes from A to B. Checks: at least 3 closed files,
all finalized into the spool, packets in the files == packets the backend reports it received, and every UDP
datagram sent is in the files. Needs root and `ip netns` (skipped otherwise).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.compute as pc
import pytest

from netqos.capture.backends import make_backend
from netqos.capture.filemeta import describe
from netqos.capture.spool import Spool
from netqos.decode.readers import decode_file
from netqos.lab.netns import VethLink, netns_available
from netqos.settings import CaptureSettings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

UDP_PORT, TCP_PORT = 9999, 5001
SINK = textwrap.dedent(
    """
    import socket, sys, threading
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((sys.argv[1], int(sys.argv[2])))
    t = socket.socket()
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((sys.argv[1], int(sys.argv[3])))
    t.listen(4)
    threading.Thread(target=lambda: [u.recv(2048) for _ in iter(int, 1)], daemon=True).start()
    print("ready", flush=True)
    while True:
        c, _ = t.accept()
        while c.recv(65536):
            pass
        c.close()
    """
)
SENDER = textwrap.dedent(
    """
    import socket, sys, time
    host, udp_port, tcp_port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c = socket.create_connection((host, tcp_port))
    for i in range(n):
        u.sendto(b"netqos-%06d" % i, (host, udp_port))
        c.sendall(b"x" * 3000)
        time.sleep(0.02)
    c.close()
    """
)
DATAGRAMS = 180  # ~4 s at 20 ms each


@pytest.fixture(scope="module")
def link() -> Iterator[VethLink]:
    if not netns_available():
        pytest.skip("needs root and network namespaces (ip netns)")
    with VethLink(f"nqc{os.getpid() % 100000}") as veth:
        sink = veth.popen_b(
            [sys.executable, "-c", SINK, veth.addr_b, str(UDP_PORT), str(TCP_PORT)], stdout=subprocess.PIPE
        )
        assert sink.stdout is not None and sink.stdout.readline().strip() == b"ready"
        try:
            yield veth
        finally:
            sink.kill()
            sink.wait()


def _run(link: VethLink, tmp_path: Path, backend: str, fmt: str) -> None:
    cfg = CaptureSettings(
        interfaces=[link.dev_a],
        rotate_seconds=1,
        backend=backend,
        file_format=fmt,
        spool_dir=tmp_path,  # type: ignore[arg-type]
    )
    spool = Spool(tmp_path, quota_bytes=1 << 30)
    cap = make_backend(cfg, spool.incoming, "live-1", netns=link.ns_a)
    cap.start()
    t0 = time.monotonic()
    try:
        sender = link.popen_a([sys.executable, "-c", SENDER, link.addr_b, str(UDP_PORT), str(TCP_PORT), str(DATAGRAMS)])
        closed: list[Path] = []
        mid = None
        while sender.poll() is None:
            closed += cap.poll()
            if mid is None and time.monotonic() - t0 > 2.5:
                mid = cap.drops()  # tcpdump: SIGUSR1 round trip; scapy: after each file; dumpcap: at exit
            time.sleep(0.1)
        if backend in ("tcpdump", "scapy"):
            assert mid is not None and mid.received > 0, mid
        assert sender.returncode == 0
        time.sleep(0.3)
        assert cap.alive
    finally:
        cap.stop()
    closed += cap.poll()
    elapsed = time.monotonic() - t0

    assert len(closed) >= 3, closed
    assert len(set(closed)) == len(closed)
    entries = []
    for path in closed:
        meta = describe(path, sensor_id="live-1", seq=spool.next_seq("live-1"), backend=cap.name, drops=cap.drops())
        assert meta.decode_error is None, (path, meta.decode_error)
        assert meta.format == fmt
        entries.append(spool.finalize(path, meta))
    assert not [p for p in spool.incoming.iterdir() if not p.name.startswith(".")], "files left in incoming/"
    assert [e.path for e in spool.pending()] == [e.path for e in entries]  # oldest first == closing order

    in_files = sum(e.meta.packets for e in entries)
    seen = cap.drops()
    assert in_files == seen.received, (in_files, seen)
    assert seen.dropped == 0

    udp = tcp = 0
    for e in entries:
        table = decode_file(e.path)
        to_b = pc.equal(table["ip_dst"], link.addr_b)
        udp += pc.sum(pc.and_(to_b, pc.equal(table["dst_port"], UDP_PORT))).as_py() or 0
        tcp += pc.sum(pc.and_(to_b, pc.equal(table["dst_port"], TCP_PORT))).as_py() or 0
    assert udp == DATAGRAMS, (udp, DATAGRAMS)
    assert tcp > DATAGRAMS  # 3000 bytes per round are two or more segments
    print(f"\n{backend}/{fmt}: {len(entries)} files, {in_files} packets, {elapsed:.1f} s")


def test_dumpcap_pcapng(link: VethLink, tmp_path: Path) -> None:
    _run(link, tmp_path, "dumpcap", "pcapng")


def test_dumpcap_pcap(link: VethLink, tmp_path: Path) -> None:
    _run(link, tmp_path, "dumpcap", "pcap")


@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump is not installed (apt-get install tcpdump)")
def test_tcpdump(link: VethLink, tmp_path: Path) -> None:
    _run(link, tmp_path, "tcpdump", "pcap")


def test_scapy(link: VethLink, tmp_path: Path) -> None:
    _run(link, tmp_path, "scapy", "pcapng")
