"""Backends without capturing: command lines, counter parsing, actionable errors, and the process life cycle
(start / poll / stop / crash sweep) driven by a fake capture tool."""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

import pytest

from netqos.capture import backends as bk
from netqos.capture.model import DropCounters
from netqos.settings import CaptureSettings


def _cfg(**kw: object) -> CaptureSettings:
    base: dict[str, object] = {"interfaces": ["eth0"], "rotate_seconds": 60}
    base.update(kw)
    return CaptureSettings(**base)  # type: ignore[arg-type]


def test_dumpcap_argv(tmp_path: Path) -> None:
    b = bk.DumpcapBackend(
        _cfg(interfaces=["eth0", "eth1"], bpf_filter="tcp", snaplen=128, rotate_megabytes=5, monitor_mode=True),
        tmp_path,
        "s/1",
    )
    b.base = "s-1-1"
    assert b.argv() == [
        "dumpcap", "-q", "-i", "eth0", "-i", "eth1", "-f", "tcp", "-s", "128", "-I",
        "-b", "interval:60", "-b", "filesize:5000", "-b", "printname:stdout",
        "-n", "-w", str(tmp_path / "s-1-1.pcapng"),
    ]  # fmt: skip
    b = bk.DumpcapBackend(_cfg(file_format="pcap", rotate_seconds=None, rotate_megabytes=1), tmp_path, "s")
    b.base = "x"
    argv = b.argv()
    assert "-P" in argv and argv[-1].endswith("x.pcap") and not any(a.startswith("interval") for a in argv)


def test_tcpdump_argv_and_helper(tmp_path: Path) -> None:
    b = bk.TcpdumpBackend(
        _cfg(file_format="pcap", rotate_seconds=1, rotate_megabytes=2, bpf_filter="udp"), tmp_path, "s"
    )
    b.base = "s-1"
    argv = b.argv()
    assert argv[:8] == ["tcpdump", "-n", "-i", "eth0", "-s", "262144", "-Z", "root"]
    assert argv[argv.index("-G") + 1] == "1" and argv[argv.index("-C") + 1] == "2"
    assert argv[argv.index("-w") + 1] == str(tmp_path / "s-1_%Y%m%dT%H%M%S.pcap")
    assert argv[argv.index("-z") + 1] == str(b.helper) and argv[-1] == "udp"
    assert b.helper.stat().st_mode & 0o111 and "$1" in b.helper.read_text()


def test_tcpdump_rejects_pcapng_and_several_interfaces(tmp_path: Path) -> None:
    with pytest.raises(bk.CaptureError, match='file_format = "pcap"'):
        bk.TcpdumpBackend(_cfg(), tmp_path, "s")
    with pytest.raises(bk.CaptureError, match="one interface"):
        bk.TcpdumpBackend(_cfg(file_format="pcap", interfaces=["a", "b"]), tmp_path, "s")


def test_dumpcap_exit_summary_is_summed_over_interfaces(tmp_path: Path) -> None:
    b = bk.DumpcapBackend(_cfg(), tmp_path, "s")
    b.on_stderr("Packets received/dropped on interface 'eth0': 283/4 (pcap:3/dumpcap:1/flushed:0/ps_ifdrop:2) (98.6%)")
    b.on_stderr("Packets received/dropped on interface 'Loopback: lo': 10/0 (pcap:0/dumpcap:0/flushed:0/ps_ifdrop:0)")
    assert b.drops() == DropCounters(received=293, dropped=4, if_dropped=2)


def test_tcpdump_counters_both_forms(tmp_path: Path) -> None:
    b = bk.TcpdumpBackend(_cfg(file_format="pcap"), tmp_path, "s")
    b.on_stderr("tcpdump: 12 packets captured, 14 packets received by filter, 2 packets dropped by kernel")
    assert b.drops() == DropCounters(12, 2, 0)
    for line in ("30 packets captured", "31 packets received by filter", "1 packet dropped by kernel",
                 "5 packets dropped by interface"):  # fmt: skip
        b.on_stderr(line)
    assert b.drops() == DropCounters(30, 1, 5)


def test_missing_interface_lists_the_available_ones(tmp_path: Path) -> None:
    with pytest.raises(bk.CaptureError, match=r"nosuch0 not found; available: .*lo"):
        bk.make_backend(_cfg(interfaces=["nosuch0"], backend="scapy"), tmp_path, "s")
    with pytest.raises(bk.CaptureError, match=r"set capture\.interfaces"):
        bk.make_backend(_cfg(interfaces=[], backend="scapy"), tmp_path, "s")


def test_missing_binary_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(bk.CaptureError, match=r"dumpcap not found.*apt-get install wireshark-common"):
        bk.make_backend(_cfg(interfaces=["lo"]), tmp_path, "s")
    with pytest.raises(bk.CaptureError, match="apt-get install tcpdump"):
        bk.make_backend(_cfg(interfaces=["lo"], backend="tcpdump", file_format="pcap"), tmp_path, "s")


def test_no_permission_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bk.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(bk, "_has_capture_caps", lambda binary: False)
    with pytest.raises(bk.CaptureError, match="CAP_NET_RAW and CAP_NET_ADMIN"):
        bk.make_backend(_cfg(interfaces=["lo"]), tmp_path, "s")
    msg = bk.classify_failure("dumpcap", "You don't have permission to capture on that device", ["eth0"])
    assert "CAP_NET_RAW" in msg
    assert "cannot open interface" in bk.classify_failure("dumpcap", "(No such device exists)", ["eth9"])


# -- life cycle with a fake tool ---------------------------------------------------------------------------

FAKE_TOOL = textwrap.dedent(
    """
    import signal, sys, time
    out, mode = sys.argv[1], sys.argv[2]
    print("Capturing on 'fake'", file=sys.stderr, flush=True)
    if mode == "fail":
        print("You don't have permission to capture on that device", file=sys.stderr, flush=True)
        sys.exit(2)
    stop = []
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    for i in range(1, 100):
        path = f"{out}_{i:05d}.pcap"
        open(path, "wb").write(b"x" * i)
        if mode == "crash" and i == 3:
            sys.exit(9)  # killed: file 3 never reported
        time.sleep(0.05)
        if stop:
            break
        print(path, flush=True)
    print(f"Packets received/dropped on interface 'fake': {i}/1", file=sys.stderr, flush=True)
    """
)


class FakeBackend(bk.ProcessBackend):
    name = "fake"
    ready_marker = re.compile(r"^Capturing on ")
    on_stderr = bk.DumpcapBackend.on_stderr

    def __init__(self, out_dir: Path, mode: str) -> None:
        super().__init__(_cfg(), out_dir, "s", netns=None)
        self.mode = mode
        self._per_iface: dict[str, DropCounters] = {}

    def argv(self) -> list[str]:
        return [sys.executable, "-c", FAKE_TOOL, str(self.out_dir / self.base), self.mode]


def test_stop_reports_the_open_file_last(tmp_path: Path) -> None:
    b = FakeBackend(tmp_path, "run")
    b.start()
    assert b.alive
    import time

    time.sleep(0.3)
    got = b.poll()
    b.stop()
    got += b.poll()
    assert not b.alive
    assert [p.name for p in got] == [f"{b.base}_{i:05d}.pcap" for i in range(1, len(got) + 1)]
    assert len(got) >= 3 and b.drops().received == len(got) and b.drops().dropped == 1
    assert b.poll() == []


def test_a_crashed_tool_leaves_its_cut_file_to_poll(tmp_path: Path) -> None:
    b = FakeBackend(tmp_path, "crash")
    b.start()
    b._proc.wait(10)  # type: ignore[union-attr]
    assert not b.alive
    assert [p.name[-9:] for p in b.poll()] == ["0001.pcap", "0002.pcap", "0003.pcap"]
    assert b.poll() == []
    b.start()  # restart: a new prefix, nothing overwritten
    b.stop()
    assert all(p.name.startswith(b.base) for p in b.poll())


def test_start_failure_is_actionable(tmp_path: Path) -> None:
    b = FakeBackend(tmp_path, "fail")
    b.ready_marker = re.compile("never")
    with pytest.raises(bk.CaptureError, match="CAP_NET_RAW"):
        b.start()
