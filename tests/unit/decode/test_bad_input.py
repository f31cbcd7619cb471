"""Bad input: unreadable files raise CaptureFormatError (with the reason); damaged files yield the rows before
the damage plus `summary.error`; packets cut by the snaplen get the DecodeStatus of the layer they end in.
Nothing crashes, nothing hangs (pytest-timeout on every test).
"""

from __future__ import annotations

import io
import struct
import sys
from pathlib import Path
from typing import Any

import pytest

_TESTS = Path(__file__).resolve().parents[2]
if str(_TESTS) not in sys.path:
    sys.path.insert(0, str(_TESTS))

import pcapgen as g  # noqa: E402
from scapy.layers.dot11 import Dot11, Dot11QoS  # noqa: E402
from scapy.layers.inet import ICMP, IP, TCP, UDP  # noqa: E402
from scapy.layers.inet6 import ICMPv6EchoRequest, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop  # noqa: E402
from scapy.layers.l2 import LLC, SNAP, Dot1Q, Dot3, Ether  # noqa: E402

from netqos.decode import (  # noqa: E402
    PACKET_SCHEMA,
    CaptureFormatError,
    DecodeStatus,
    decode_file,
    open_capture,
)
from netqos.decode.schema import STATUS_TEXT  # noqa: E402

pytestmark = [pytest.mark.unit, pytest.mark.timeout(60)]

PKT = bytes(Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=1, dport=2) / (b"x" * 20))  # 74 bytes


def st(s: DecodeStatus) -> str:
    return STATUS_TEXT[s]


def decode(data: bytes, **kw: Any) -> tuple[list[dict[str, Any]], Any]:
    rows: list[dict[str, Any]] = []
    with open_capture(io.BytesIO(data), **kw) as reader:
        for batch in reader.batches():
            assert batch.schema.equals(PACKET_SCHEMA)
            rows.extend(batch.to_pylist())
        summary = reader.summary
    assert [r["frame_no"] for r in rows] == list(range(1, len(rows) + 1))
    assert summary.packets == len(rows)
    return rows, summary


# ============================================================================================== unreadable


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"", "only 0 bytes"),
        (b"\xd4\xc3", "only 2 bytes"),
        (b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", "text file"),
        (b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56, "magic 0x7f454c46"),
        (b"\x00" * 64, "magic 0x00000000"),
        (g.pcap_header()[:20], "cut short"),
        (g.shb()[:10], "cut short"),
        (b"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x11\x22\x33\x44" + b"\x00" * 16, "byte-order magic"),
    ],
    ids=["zero-byte", "2-bytes", "text", "elf", "zeros", "pcap-header-cut", "pcapng-shb-cut", "pcapng-bad-bom"],
)
def test_unreadable_raises_capture_format_error(content: bytes, why: str) -> None:
    with pytest.raises(CaptureFormatError, match=why):
        open_capture(io.BytesIO(content))
    assert issubclass(CaptureFormatError, ValueError)


def test_text_file_named_pcap(tmp_path: Path) -> None:
    path = tmp_path / "notes.pcap"
    path.write_text("this is not a capture\njust some notes\n")
    with pytest.raises(CaptureFormatError, match="text file"):
        decode_file(path)
    with pytest.raises(CaptureFormatError, match="only 0 bytes"):
        (tmp_path / "empty.pcap").write_bytes(b"")
        decode_file(tmp_path / "empty.pcap")


def test_header_only_files_are_empty_not_errors() -> None:
    for data in (g.pcap_header(), g.shb(), g.shb() + g.idb(1)):
        rows, summary = decode(data)
        assert rows == [] and summary.error is None


# ============================================================================================== classic pcap damage


def test_truncated_last_record_data_cut() -> None:
    """The record header is complete but the file ends inside its data: a row with the bytes present."""
    data = g.pcap_file([PKT, PKT])[:-30]
    rows, summary = decode(data)
    assert len(rows) == 2
    assert rows[0]["decode_status"] == "ok"
    assert (rows[1]["cap_len"], rows[1]["wire_len"]) == (len(PKT) - 30, len(PKT))
    assert rows[1]["decode_status"] == st(DecodeStatus.TRUNCATED_RECORD)
    assert rows[1]["ts_ns"] == 1_000_000_000  # the header was complete: its timestamp is kept
    assert "ends inside frame 2" in summary.error


@pytest.mark.parametrize("left", [1, 7, 15])
def test_truncated_last_record_header_cut(left: int) -> None:
    data = g.pcap_file([PKT]) + g.pcap_record(g.Record(PKT))[:left]
    rows, summary = decode(data)
    assert len(rows) == 1 and rows[0]["decode_status"] == "ok"
    assert "header of frame 2" in summary.error and f"{left} of 16" in summary.error


def test_truncated_record_with_zero_data_bytes() -> None:
    data = g.pcap_file([PKT]) + g.pcap_record(g.Record(PKT))[:16]
    rows, summary = decode(data)
    assert [r["cap_len"] for r in rows] == [len(PKT), 0]
    assert rows[1]["decode_status"] == st(DecodeStatus.TRUNCATED_RECORD)
    assert summary.error is not None


def test_caplen_larger_than_snaplen_is_decoded() -> None:
    """Like libpcap/wiretap readers, a record longer than the header's snaplen is read as written (real files
    do this: tcpdump-bootp_asan has snaplen 53 and a 90-byte record; ndpi-fuzz-2021-10-13 has snaplen 0)."""
    rows, summary = decode(g.pcap_file([PKT, PKT], snaplen=20))
    assert [(r["cap_len"], r["decode_status"]) for r in rows] == [(len(PKT), "ok")] * 2
    assert summary.error is None
    rows, _ = decode(g.pcap_file([PKT], snaplen=0))
    assert rows[0]["dst_port"] == 2


@pytest.mark.parametrize("with_data", [False, True])
def test_caplen_over_256k_stops_reading(with_data: bool) -> None:
    """caplen > 256 KiB is treated like libpcap/wiretap do: corruption, reading stops; earlier rows are kept."""
    big = g.Record(b"\x00" * 300_000) if with_data else g.Record(PKT, incl_len=300_000)
    rows, summary = decode(g.pcap_file([PKT, big, PKT]))
    assert len(rows) == 1 and rows[0]["decode_status"] == "ok"
    assert "caplen 300000" in summary.error and "262144" in summary.error


def test_max_record_bytes_is_configurable() -> None:
    rows, summary = decode(g.pcap_file([PKT[:40], PKT]), max_record_bytes=64)
    assert len(rows) == 1 and "frame 2" in summary.error


def test_many_zero_length_records() -> None:
    rows, summary = decode(g.pcap_file([b""] * 5000))
    assert len(rows) == 5000 and summary.error is None
    assert {r["decode_status"] for r in rows} == {st(DecodeStatus.TRUNC_LINK)}


def test_unsupported_link_type() -> None:
    rows, _ = decode(g.pcap_file([PKT], linktype=147))
    assert rows[0]["decode_status"] == st(DecodeStatus.UNSUPPORTED_LINKTYPE)
    assert rows[0]["link_type"] == 147 and rows[0]["cap_len"] == len(PKT) and rows[0]["eth_src"] is None


def test_non_seekable_stream_without_readinto() -> None:
    class Pipe:
        def __init__(self, data: bytes) -> None:
            self._b = io.BytesIO(data)

        def read(self, n: int = -1) -> bytes:
            return self._b.read(min(n, 7) if n and n > 0 else n)  # short reads on purpose

    data = g.pcap_file([PKT] * 50)
    with open_capture(Pipe(data)) as reader:  # type: ignore[arg-type]
        rows = [r for b in reader.batches() for r in b.to_pylist()]
    assert len(rows) == 50 and reader.summary.error is None


# ============================================================================================== pcapng damage

SHB, IDB = g.shb(), g.idb(1)
GOOD = SHB + IDB + g.epb(PKT, ts=1)


@pytest.mark.parametrize(
    ("tail", "message"),
    [
        (g.epb(PKT, total_len=8), "invalid block length"),  # < 12
        (g.epb(PKT, total_len=0), "invalid block length"),
        (g.epb(PKT, total_len=len(g.epb(PKT)) - 2), "invalid block length"),  # not a multiple of 4
        (g.epb(PKT, total_len=4000), "file ends inside pcapng block"),  # beyond EOF
        (g.epb(PKT, total_len=0x7FFFFFF0), "packet length exceeds the block or the 262144-byte maximum"),
        (g.epb(PKT)[:-10], "file ends inside pcapng block"),  # cut inside the block (at EOF)
        (g.epb(PKT)[:6], "file ends inside pcapng block"),  # cut inside the block header
        (g.block(g.BT_EPB, b"\x00" * 20, trailer_len=99), "invalid block length"),  # trailer mismatch
        (g.epb(PKT, cap_len=200), "packet length exceeds the block"),  # caplen > block body
        (g.block(g.BT_EPB, b"\x00" * 8), "packet length exceeds the block"),  # body too short for an EPB
        (g.epb(PKT, iface=5), "interface without an interface description block"),
        (g.block(g.BT_IDB, b"", total_len=4), "invalid block length"),
        (g.block(0xBAD, b"\x00" * 8, total_len=0x7FFFFFF0), "file ends inside pcapng block"),
    ],
    ids=[
        "len<12",
        "len0",
        "len%4",
        "beyond-eof",
        "huge",
        "cut-data",
        "cut-header",
        "trailer",
        "caplen>body",
        "short-epb",
        "bad-iface",
        "idb-len4",
        "huge-custom",
    ],
)
def test_pcapng_bad_blocks_stop_after_good_rows(tail: bytes, message: str) -> None:
    at_eof = message.startswith("file ends")  # a cut block is the end of the file; else a good EPB follows
    rows, summary = decode(GOOD + tail + (b"" if at_eof else g.epb(PKT, ts=2)))
    assert rows[0]["decode_status"] == "ok" and rows[0]["ts_ns"] == 1000
    # An EPB cut by EOF with its 28-byte header intact keeps the bytes present, as a pcap record does.
    cut_epb = at_eof and len(tail) >= 28 and tail[:4] == g.epb(PKT)[:4]
    if cut_epb:
        present = min(len(PKT), len(tail) - 28)
        whole = present == len(PKT)  # only the block's trailer is missing: the packet decodes normally
        assert len(rows) == 2 and rows[1]["decode_status"] == ("ok" if whole else "truncated:record")
        assert rows[1]["cap_len"] == present and rows[1]["ts_ns"] == 0
    else:
        assert len(rows) == 1
    assert summary.error is not None and message in summary.error, summary.error


@pytest.mark.parametrize("blen", [8, 30, 0])
def test_pcapng_first_shb_bad_length(blen: int) -> None:
    """The magic and byte-order magic are right but the SHB length is not: no rows, an error saying why."""
    rows, summary = decode(g.shb(total_len=blen) + IDB + g.epb(PKT))
    assert rows == [] and f"invalid block length {blen}" in summary.error


def test_pcapng_packet_before_any_idb() -> None:
    for pb in (g.epb(PKT), g.spb(PKT)):
        rows, summary = decode(SHB + pb)
        assert rows == [] and "interface description block" in summary.error


def test_pcapng_interfaces_do_not_leak_across_sections() -> None:
    """Interface ids are per section: an EPB naming interface 1 after a new SHB with one IDB is an error."""
    data = GOOD + g.idb(1) + g.shb() + g.idb(1) + g.epb(PKT, iface=1)
    rows, summary = decode(data)
    assert len(rows) == 1 and "interface" in summary.error


def test_pcapng_bad_tsresol_falls_back_to_microseconds() -> None:
    rows, summary = decode(SHB + g.idb(1, tsresol=0x7F) + g.epb(PKT, ts=5))
    assert rows[0]["ts_ns"] == 5000 and summary.error is None


def test_pcapng_truncated_idb_options() -> None:
    """An IDB whose option list runs past the block: options are ignored, the interface still counts."""
    body = struct.pack("<HHI", 1, 0, 0) + struct.pack("<HH", 9, 40) + b"\x09"
    rows, summary = decode(SHB + g.block(g.BT_IDB, body) + g.epb(PKT, ts=3))
    assert len(rows) == 1 and rows[0]["dst_port"] == 2 and summary.error is None


# ============================================================================================== snaplen cuts


def _cut(pkt: bytes, n: int, linktype: int = 1) -> dict[str, Any]:
    rows, summary = decode(g.pcap_file([g.Record(pkt[:n], orig_len=len(pkt))], linktype=linktype))
    assert summary.error is None
    return rows[0]


ETH_V4_TCP_OPTS = bytes(
    Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=1, dport=2, options=[("MSS", 1460), ("WScale", 7)])
)
ETH_V6_UDP = bytes(Ether() / IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=3, dport=4) / b"d")
ETH_V6_EXT = bytes(Ether() / IPv6() / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() / UDP())
ETH_ICMP = bytes(Ether() / IP() / ICMP())
ETH_ICMP6 = bytes(Ether() / IPv6() / ICMPv6EchoRequest())
ETH_VLAN = bytes(Ether() / Dot1Q(vlan=5) / IP() / UDP())
ETH_LLC = bytes(Dot3() / LLC(dsap=0xAA, ssap=0xAA, ctrl=3) / SNAP(code=0x0800) / IP() / UDP())
ETH_V4_OPTS = bytes(Ether() / IP(options=b"\x01\x01\x01\x00") / UDP())


@pytest.mark.parametrize(
    ("pkt", "cut", "status", "present", "absent"),
    [
        (PKT, 0, DecodeStatus.TRUNC_LINK, (), ("eth_src",)),
        (PKT, 13, DecodeStatus.TRUNC_LINK, (), ("eth_src", "eth_type")),
        (ETH_VLAN, 16, DecodeStatus.TRUNC_VLAN, ("eth_src",), ("vlan_id",)),
        (ETH_LLC, 15, DecodeStatus.TRUNC_LLC, ("eth_src",), ("eth_type",)),
        (ETH_LLC, 20, DecodeStatus.TRUNC_LLC, ("eth_src",), ("eth_type",)),
        (PKT, 14, DecodeStatus.TRUNC_IPV4, ("eth_type",), ("ip_version", "ip_src")),
        (PKT, 14 + 19, DecodeStatus.TRUNC_IPV4, ("eth_type",), ("ip_src",)),
        (ETH_V4_OPTS, 14 + 22, DecodeStatus.TRUNC_IPV4, ("ip_src", "ip_hdr_len"), ("src_port",)),  # in options
        (ETH_V6_UDP, 14 + 39, DecodeStatus.TRUNC_IPV6, ("eth_type",), ("ip_version", "ip_src")),
        (ETH_V6_EXT, 14 + 40 + 4, DecodeStatus.TRUNC_IPV6_EXT, ("ip_src",), ("ip_proto", "src_port")),
        (ETH_V6_EXT, 14 + 40 + 8 + 4, DecodeStatus.TRUNC_IPV6_EXT, ("ip_src",), ("src_port",)),
        (PKT, 14 + 20, DecodeStatus.TRUNC_TCP, ("ip_src", "ip_proto", "ip_len"), ("src_port", "tcp_flags")),
        (PKT, 14 + 20 + 19, DecodeStatus.TRUNC_TCP, ("ip_src",), ("src_port", "tcp_seq")),
        (ETH_V4_TCP_OPTS, 14 + 20 + 20, DecodeStatus.TRUNC_TCP_OPTIONS, ("src_port", "tcp_hdr_len"), ("tcp_opt_mss",)),
        (ETH_V4_TCP_OPTS, 14 + 20 + 22, DecodeStatus.TRUNC_TCP_OPTIONS, ("tcp_seq",), ("tcp_opt_mss",)),
        (ETH_V6_UDP, 14 + 40 + 7, DecodeStatus.TRUNC_UDP, ("ip_src", "ip_proto"), ("src_port", "udp_len")),
        (ETH_ICMP, 14 + 20 + 3, DecodeStatus.TRUNC_ICMP, ("ip_src",), ("icmp_type",)),
        (ETH_ICMP6, 14 + 40 + 1, DecodeStatus.TRUNC_ICMPV6, ("ip_src",), ("icmp_type",)),
        (ETH_V6_UDP, 14 + 40 + 8, DecodeStatus.OK, ("src_port", "udp_len", "l4_payload_len"), ()),
        (ETH_V4_TCP_OPTS, 14 + 20 + 28, DecodeStatus.OK, ("tcp_opt_mss", "tcp_opt_wscale"), ()),
    ],
    ids=[
        "eth-0",
        "eth-13",
        "vlan",
        "llc-15",
        "snap-20",
        "ipv4-0",
        "ipv4-19",
        "ipv4-options",
        "ipv6-39",
        "ipv6-ext-hdr",
        "ipv6-ext-body",
        "tcp-0",
        "tcp-19",
        "tcp-opts-0",
        "tcp-opts-2",
        "udp-7",
        "icmp-3",
        "icmpv6-1",
        "udp-header-only",
        "tcp-header-only",
    ],
)
def test_snaplen_cut_status(
    pkt: bytes, cut: int, status: DecodeStatus, present: tuple[str, ...], absent: tuple[str, ...]
) -> None:
    row = _cut(pkt, cut)
    assert row["decode_status"] == st(status)
    assert (row["cap_len"], row["wire_len"]) == (cut, len(pkt))
    assert [c for c in present if row[c] is None] == [], "expected decoded before the cut"
    assert [c for c in absent if row[c] is not None] == [], "expected null past the cut"
    # Everything that was decoded fits inside the captured bytes: payload length still follows the IP length.
    if status == DecodeStatus.OK and row["l4_payload_len"] is not None:
        assert row["l4_payload_len"] >= 0


def test_snaplen_cut_link_layers() -> None:
    wlan = bytes(Dot11(type=2, subtype=8, addr1="00:00:00:00:00:01") / Dot11QoS() / LLC() / SNAP() / IP())
    rt = struct.pack("<BBHI", 0, 0, 8, 0)
    assert _cut(wlan, 9, 105)["decode_status"] == st(DecodeStatus.TRUNC_WLAN)
    assert _cut(wlan, 20, 105)["decode_status"] == st(DecodeStatus.TRUNC_WLAN)
    assert _cut(wlan, 25, 105)["decode_status"] == st(DecodeStatus.TRUNC_WLAN)  # inside the QoS field
    assert _cut(wlan, 28, 105)["decode_status"] == st(DecodeStatus.TRUNC_LLC)
    assert _cut(rt + wlan, 6, 127)["decode_status"] == st(DecodeStatus.TRUNC_RADIOTAP)
    assert _cut(rt + wlan, 12, 127)["decode_status"] == st(DecodeStatus.TRUNC_WLAN)
    sll = struct.pack(">HHH8sH", 0, 1, 6, b"\x00" * 8, 0x0800) + bytes(IP())
    assert _cut(sll, 15, 113)["decode_status"] == st(DecodeStatus.TRUNC_LINK)
    assert _cut(sll, 16, 113)["decode_status"] == st(DecodeStatus.TRUNC_IPV4)
    assert _cut(b"\x00" * 20, 19, 276)["decode_status"] == st(DecodeStatus.TRUNC_LINK)
    assert _cut(struct.pack("<I", 2) + bytes(IP()), 3, 0)["decode_status"] == st(DecodeStatus.TRUNC_LINK)
    assert _cut(bytes(IP()), 0, 101)["decode_status"] == st(DecodeStatus.TRUNC_IPV4)


# ============================================================================================== malformed headers


def _one(pkt: bytes, linktype: int = 1) -> dict[str, Any]:
    rows, _ = decode(g.pcap_file([pkt], linktype=linktype))
    return rows[0]


def _patch(pkt: bytes, offset: int, value: bytes) -> bytes:
    return pkt[:offset] + value + pkt[offset + len(value) :]


def test_malformed_headers() -> None:
    ip_at, tcp_at = 14, 34
    assert _one(_patch(PKT, ip_at, b"\x44"))["decode_status"] == st(DecodeStatus.BAD_IPV4)  # IHL 4 < 5
    assert _one(_patch(PKT, ip_at + 2, b"\x00\x10"))["decode_status"] == st(DecodeStatus.BAD_IPV4)  # len < IHL
    assert _one(_patch(PKT, ip_at, b"\x65"))["decode_status"] == st(DecodeStatus.BAD_IP_VERSION)
    assert _one(_patch(ETH_V6_UDP, ip_at, b"\x40"))["decode_status"] == st(DecodeStatus.BAD_IP_VERSION)
    row = _one(_patch(PKT, tcp_at + 12, b"\x40"))  # data offset 4 words < 5
    assert row["decode_status"] == st(DecodeStatus.BAD_TCP) and row["src_port"] == 1
    bad_opt = _patch(ETH_V4_TCP_OPTS, tcp_at + 20, b"\x02\x01")  # MSS option with length 1
    row = _one(bad_opt)
    assert row["decode_status"] == st(DecodeStatus.BAD_TCP_OPTIONS) and row["tcp_opt_mss"] is None
    row = _one(_patch(ETH_V4_TCP_OPTS, tcp_at + 20, b"\x02\x30"))  # option runs past the TCP header
    assert row["decode_status"] == st(DecodeStatus.BAD_TCP_OPTIONS)
    row = _one(_patch(ETH_V6_UDP, 14 + 40 + 4, b"\x00\x04"))  # UDP length 4 < 8
    assert row["decode_status"] == st(DecodeStatus.BAD_UDP) and row["udp_len"] == 4
    rt_bad_version = struct.pack("<BBHI", 1, 0, 8, 0) + bytes(Dot11())
    assert _one(rt_bad_version, 127)["decode_status"] == st(DecodeStatus.BAD_RADIOTAP)
    rt_short_len = struct.pack("<BBHI", 0, 0, 4, 0) + bytes(Dot11())
    assert _one(rt_short_len, 127)["decode_status"] == st(DecodeStatus.BAD_RADIOTAP)
    rt_field_past_len = struct.pack("<BBHI", 0, 0, 8, 1) + bytes(Dot11())  # TSFT present, no room for it
    assert _one(rt_field_past_len, 127)["decode_status"] == st(DecodeStatus.BAD_RADIOTAP)
    rt_endless_ext = struct.pack("<BBH", 0, 0, 16) + struct.pack("<I", 0x80000000) * 3 + bytes(Dot11())
    assert _one(rt_endless_ext, 127)["decode_status"] == st(DecodeStatus.BAD_RADIOTAP)


def test_ip_length_beyond_the_frame_is_clipped() -> None:
    """IPv4 total length claiming more than the frame carried (fuzzed files): the L4 payload length is clipped
    to the wire bytes, as tshark does ("IPv4 total length exceeds packet length")."""
    row = _one(_patch(PKT, 14 + 2, b"\x73\x00"))  # 29440
    assert row["ip_len"] == 29440 and row["l4_payload_len"] == 20
    udp = bytes(Ether() / IP() / UDP(sport=1, dport=2, len=554) / (b"q" * 34))  # UDP length > IP payload
    row = _one(udp)
    assert row["udp_len"] == 554 and row["l4_payload_len"] == 34


def test_every_status_text_is_well_formed() -> None:
    for s, text in STATUS_TEXT.items():
        kind, _, layer = text.partition(":")
        assert text == "ok" if s == DecodeStatus.OK else kind in ("truncated", "malformed", "unsupported") and layer
    assert set(STATUS_TEXT) == set(DecodeStatus)


def test_original_length_beyond_int32_is_null() -> None:
    """orig_len is an unsigned 32-bit field; values past the int32 column are null, never negative."""
    rows, _ = decode(g.pcap_file([g.Record(PKT, orig_len=0xFFFFFFFF), g.Record(PKT, orig_len=2**31), PKT]))
    assert [r["wire_len"] for r in rows] == [None, None, len(PKT)]
    assert all(r["decode_status"] == "ok" and r["dst_port"] == 2 for r in rows)
