"""filemeta.describe (whole, cut, empty and non-capture files) and isb_drops (pcapng Interface Statistics Blocks)."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

import netqos
from netqos.capture.filemeta import describe, isb_drops
from netqos.capture.model import DropCounters

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from pcapgen import BT_ISB, Record, block, epb, idb, options, pcap_file, shb, ts_units

T0 = 1_700_000_000_000_000_000
ETH_IPV4 = bytes(12) + b"\x08\x00" + bytes([0x45]) + bytes(19) + bytes(20)  # Ethernet + IPv4 + padding


def _pcapng(n: int, *, tail: bytes = b"") -> bytes:
    packets = b"".join(epb(ETH_IPV4, ts=ts_units(T0 + i * 1_000_000, 9)) for i in range(n))
    return shb() + idb(1, tsresol=9) + packets + tail


def _isb(iface: int, opts: list[tuple[int, int]]) -> bytes:
    body = struct.pack("<III", iface, 0, 0) + options([(c, struct.pack("<Q", v)) for c, v in opts])
    return block(BT_ISB, body)


def test_describe_whole_pcapng(tmp_path: Path) -> None:
    path = tmp_path / "a.pcapng"
    path.write_bytes(_pcapng(5))
    meta = describe(path, sensor_id="s1", seq=7, backend="test", drops=DropCounters(5, 1, 0))
    assert meta.packets == 5
    assert meta.format == "pcapng" and meta.extension == "pcapng"
    assert (meta.first_ts_ns, meta.last_ts_ns) == (T0, T0 + 4_000_000)
    assert meta.link_types == [1]
    assert meta.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert meta.size == path.stat().st_size
    assert meta.capture_host == socket.gethostname() and meta.agent_version == netqos.__version__
    assert (meta.sensor_id, meta.seq, meta.backend, meta.drops) == ("s1", 7, "test", DropCounters(5, 1, 0))
    assert meta.decode_error is None and meta.recovered is False


def test_describe_pcap_two_link_types_is_sorted(tmp_path: Path) -> None:
    path = tmp_path / "b.pcapng"
    data = shb() + idb(101, tsresol=9) + idb(1, tsresol=9)
    data += epb(ETH_IPV4, iface=0, ts=ts_units(T0, 9)) + epb(ETH_IPV4, iface=1, ts=ts_units(T0 + 1, 9))
    path.write_bytes(data)
    assert describe(path, sensor_id="s", seq=1, backend="t", drops=DropCounters()).link_types == [1, 101]


def test_describe_cut_pcapng_counts_whole_packets_only(tmp_path: Path) -> None:
    whole = _pcapng(4)
    path = tmp_path / "cut.pcapng"
    path.write_bytes(whole[:-30])  # the last block loses its trailer and part of its packet bytes
    meta = describe(path, sensor_id="s", seq=1, backend="t", drops=DropCounters(), recovered=True)
    assert meta.packets == 3
    assert meta.last_ts_ns == T0 + 2_000_000
    assert meta.decode_error and "ends inside" in meta.decode_error
    assert meta.recovered


def test_describe_cut_pcap(tmp_path: Path) -> None:
    recs = [Record(ETH_IPV4, ts_sec=100 + i, ts_frac=i) for i in range(3)]
    path = tmp_path / "cut.pcap"
    path.write_bytes(pcap_file(recs, nanos=True)[:-10])
    meta = describe(path, sensor_id="s", seq=1, backend="t", drops=DropCounters())
    assert meta.format == "pcap" and meta.packets == 2
    assert meta.last_ts_ns == 101 * 10**9 + 1
    assert meta.decode_error and "frame 3" in meta.decode_error


def test_describe_header_only_and_not_a_capture(tmp_path: Path) -> None:
    empty = tmp_path / "e.pcapng"
    empty.write_bytes(shb() + idb(1))
    meta = describe(empty, sensor_id="s", seq=1, backend="t", drops=DropCounters())
    assert (meta.packets, meta.first_ts_ns, meta.link_types, meta.decode_error) == (0, None, [], None)
    junk = tmp_path / "j.pcap"
    junk.write_text("hello, not a capture\n")
    meta = describe(junk, sensor_id="s", seq=1, backend="t", drops=DropCounters())
    assert meta.packets == 0 and meta.decode_error and "text file" in meta.decode_error
    zero = tmp_path / "z.pcapng"
    zero.write_bytes(b"")
    assert describe(zero, sensor_id="s", seq=1, backend="t", drops=DropCounters()).format == "pcapng"


# -- ISBs ---------------------------------------------------------------------------------------------------


def test_isb_dumpcap_style_ifdrop_is_ps_drop(tmp_path: Path) -> None:
    path = tmp_path / "d.pcapng"
    # dumpcap: isb_ifrecv + isb_ifdrop only; two interfaces; an older ISB of iface 0 earlier in the tail
    tail = _isb(0, [(4, 1), (5, 0)]) + _isb(0, [(4, 10), (5, 2)]) + _isb(1, [(4, 7), (5, 3)])
    path.write_bytes(_pcapng(3, tail=tail))
    assert isb_drops(path) == DropCounters(received=17, dropped=5, if_dropped=0)


def test_isb_spec_style_osdrop(tmp_path: Path) -> None:
    path = tmp_path / "s.pcapng"
    path.write_bytes(_pcapng(2, tail=_isb(0, [(4, 100), (5, 4), (7, 9)])))
    assert isb_drops(path) == DropCounters(received=100, dropped=9, if_dropped=4)


def test_isb_unknown_counters_are_zero(tmp_path: Path) -> None:
    path = tmp_path / "u.pcapng"
    path.write_bytes(_pcapng(1, tail=_isb(0, [(4, 2**64 - 1), (5, 2**64 - 1)])))
    assert isb_drops(path) == DropCounters(0, 0, 0)


def test_isb_absent_cut_or_pcap_is_none(tmp_path: Path) -> None:
    none = tmp_path / "n.pcapng"
    none.write_bytes(_pcapng(3))
    cut = tmp_path / "c.pcapng"
    cut.write_bytes(_pcapng(3, tail=_isb(0, [(4, 1)]))[:-6])
    pcap = tmp_path / "p.pcap"
    pcap.write_bytes(pcap_file([ETH_IPV4]))
    junk = tmp_path / "j"
    junk.write_bytes(b"\x00" * 3)
    assert [isb_drops(p) for p in (none, cut, pcap, junk, tmp_path / "missing")] == [None] * 5


@pytest.mark.skipif(shutil.which("dumpcap") is None, reason="dumpcap is not installed")
def test_isb_of_a_file_dumpcap_wrote(tmp_path: Path) -> None:
    """A single-file dumpcap capture on loopback ends with ISBs; needs capture rights (else skipped)."""
    path = tmp_path / "lo.pcapng"
    port = 40000 + os.getpid() % 20000
    proc = subprocess.Popen(
        ["dumpcap", "-q", "-i", "lo", "-f", f"udp port {port}", "-c", "10", "-w", str(path)],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    first = proc.stderr.readline()
    if not first.startswith("Capturing on"):
        proc.kill()
        pytest.skip(f"dumpcap cannot capture here: {first.strip()}")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(200):
        if proc.poll() is not None:
            break
        s.sendto(b"x", ("127.0.0.1", port))
        time.sleep(0.01)
    assert proc.wait(10) == 0
    counters = isb_drops(path)
    assert counters is not None and counters.received == 10 and counters.dropped == 0
    meta = describe(path, sensor_id="s", seq=1, backend="dumpcap", drops=counters)
    assert meta.packets == counters.received
