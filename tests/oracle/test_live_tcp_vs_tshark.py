"""TCP analysis vs tshark on live kernel traffic captured here (captures that are not in shared/pcaps).

Two namespaces joined by a veth pair; the sender's egress is squeezed with `tc tbf` (tail drops: real
retransmissions, dup ACKs, SACK) and one receiver reads slowly with a small buffer (zero windows). dumpcap records
the sender side. Every frame must agree with tshark on every tcp.analysis flag, acks_frame, dup-ACK numbers,
bytes in flight and the RTTs — no allowlist for this capture.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from netqos.lab.netns import VethLink, netns_available

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_tcp_analysis_vs_tshark import agreement_table, compare, flag_totals, netqos_table, tshark_rows

pytestmark = [pytest.mark.oracle, pytest.mark.integration, pytest.mark.timeout(300)]

SERVER = textwrap.dedent(
    """
    import socket, sys, time
    slow = sys.argv[2] == "slow"
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if slow:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.bind((sys.argv[1], int(sys.argv[3])))
    s.listen(1)
    print("ready", flush=True)
    c, _ = s.accept()
    while True:
        if slow:
            time.sleep(0.2)  # the small buffer fills meanwhile: zero window, then window updates
        data = c.recv(8192 if slow else 1 << 16)
        if not data:
            break
    c.close()
    """
)
CLIENT = textwrap.dedent(
    """
    import socket, sys
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
    c.sendall(b"x" * int(sys.argv[3]))
    c.shutdown(socket.SHUT_WR)
    c.recv(1)
    c.close()
    """
)


def _wait_ready(proc: subprocess.Popen[bytes]) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == b"ready", line


@pytest.fixture(scope="module")
def live_capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not netns_available():
        pytest.skip("needs root and network namespaces (ip netns)")
    out = tmp_path_factory.mktemp("live") / "live-tcp.pcapng"
    with VethLink(f"nqo{os.getpid() % 100000}") as link:
        # ~8 Mbit/s with a 12 kB queue: bursts overflow it and the kernel retransmits
        link.run_a(["tc", "qdisc", "add", "dev", link.dev_a, "root", "tbf", "rate", "8mbit", "burst", "6kb",
                    "limit", "12kb"])  # fmt: skip
        servers = [
            link.popen_b([sys.executable, "-c", SERVER, link.addr_b, mode, port], stdout=subprocess.PIPE)
            for mode, port in (("fast", "5001"), ("slow", "5002"))
        ]
        for s in servers:
            _wait_ready(s)
        cap = link.popen_a(["dumpcap", "-q", "-i", link.dev_a, "-w", str(out)], stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while not out.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        clients = [
            link.popen_a([sys.executable, "-c", CLIENT, link.addr_b, port, size])
            for port, size in (("5001", str(3_000_000)), ("5002", str(60_000)))
        ]
        for c in clients:
            assert c.wait(timeout=120) == 0
        for s in servers:
            s.wait(timeout=30)
        time.sleep(0.5)
        cap.send_signal(signal.SIGINT)
        cap.wait(timeout=30)
    assert out.stat().st_size > 0
    return out


def test_live_tcp_analysis_matches_tshark(live_capture: Path, capsys: pytest.CaptureFixture[str]) -> None:
    res = compare(live_capture.name, tshark_rows(str(live_capture)), netqos_table(str(live_capture)))
    totals = flag_totals([res])
    with capsys.disabled():
        print(f"\n\nlive capture {live_capture.stat().st_size} bytes, TCP analysis vs tshark:")
        for line in agreement_table([res]):
            print("  " + line)
    # the impairments produced what this oracle is for
    assert totals["retransmission"].tshark > 0 and totals["dup_ack"].tshark > 0, totals
    assert totals["zero_window"].tshark > 0, totals
    assert res.compared.get("ack_rtt", 0) > 100
    assert not res.disagreements, res.disagreements[:20]
    assert not res.stream_conflicts
