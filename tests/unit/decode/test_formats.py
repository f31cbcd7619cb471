"""Crafted captures for every reader path and link type: decoded values must equal what was put in, and
each crafted file is also cross-checked with tshark (the oracle, not ourselves) when tshark is installed.
"""

from __future__ import annotations

import io
import struct
import sys
from pathlib import Path
from typing import Any

import pytest

_TESTS = Path(__file__).resolve().parents[2]
for _p in (str(_TESTS), str(_TESTS / "oracle")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import oracle_compare  # noqa: E402
import pcapgen as g  # noqa: E402
import tshark  # noqa: E402
from scapy.layers.dot11 import Dot11, Dot11Beacon, Dot11Elt, Dot11QoS  # noqa: E402
from scapy.layers.inet import ICMP, IP, TCP, UDP, IPOption_RR  # noqa: E402
from scapy.layers.inet6 import (  # noqa: E402
    ICMPv6EchoRequest,
    ICMPv6ND_NS,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
)
from scapy.layers.l2 import LLC, SNAP, Dot1AD, Dot1Q, Dot3, Ether  # noqa: E402

from netqos.decode import PACKET_SCHEMA, open_capture  # noqa: E402

pytestmark = [pytest.mark.unit, pytest.mark.timeout(120)]

HAVE_TSHARK = Path(tshark.TSHARK).exists()
MAC_A, MAC_B, MAC_C, MAC_D = "00:11:22:33:44:55", "66:77:88:99:aa:bb", "cc:dd:ee:ff:00:11", "02:00:00:00:00:04"
T0 = 1_700_000_000  # seconds


def decode(data: bytes) -> tuple[list[dict[str, Any]], Any]:
    rows: list[dict[str, Any]] = []
    with open_capture(io.BytesIO(data)) as reader:
        for batch in reader.batches():
            assert batch.schema.equals(PACKET_SCHEMA)
            rows.extend(batch.to_pylist())
        summary = reader.summary
    assert [r["frame_no"] for r in rows] == list(range(1, len(rows) + 1))
    return rows, summary


def crosscheck(tmp_path: Path, data: bytes, name: str = "crafted.pcap", must: tuple[str, ...] = ()) -> None:
    """tshark must agree with netqos on every field both decode; `must` labels must actually be compared."""
    if not HAVE_TSHARK:
        return
    path = tmp_path / name
    path.write_bytes(data)
    rows, _ = decode(data)
    res = tshark.run_tshark(path)
    cmp = oracle_compare.compare_rows(name, res, rows)
    assert cmp.tshark_frames == cmp.netqos_frames, (cmp.tshark_frames, cmp.netqos_frames, res.stderr)
    assert not cmp.disagreements, "\n".join(
        f"frame {d.frame} {d.field}: tshark={d.tshark!r} netqos={d.netqos!r}" for d in cmp.disagreements
    )
    never = [lbl for lbl in must if cmp.stats[lbl].both == 0]
    assert not never, f"not compared with tshark: {never}"


def one(data: bytes, linktype: int = 1, **kw: Any) -> dict[str, Any]:
    rows, _ = decode(g.pcap_file([g.Record(data, ts_sec=T0)], linktype=linktype, **kw))
    assert len(rows) == 1
    return rows[0]


def eth_tcp(**tcp_kw: Any) -> bytes:
    return bytes(
        Ether(src=MAC_A, dst=MAC_B)
        / IP(src="10.0.0.1", dst="10.0.0.2", ttl=33, tos=0xB9, id=4242, flags="DF")
        / TCP(sport=40000, dport=443, seq=0xDEADBEEF, ack=0x01020304, flags="SA", window=29200, **tcp_kw)
        / b"payload!"
    )


# ============================================================================================== classic pcap


@pytest.mark.parametrize("endian", ["<", ">"])
@pytest.mark.parametrize("nanos", [False, True])
def test_pcap_magic_and_byte_order(tmp_path: Path, endian: str, nanos: bool) -> None:
    frac = 123_456_789 if nanos else 123_456
    frac_ns = 123_456_789 if nanos else 123_456_000
    pkt = eth_tcp()
    data = g.pcap_file(
        [
            g.Record(pkt, ts_sec=T0, ts_frac=frac),
            g.Record(pkt[:40], ts_sec=T0 + 1, ts_frac=0, orig_len=len(pkt)),  # snaplen-cut record
        ],
        nanos=nanos,
        endian=endian,
        snaplen=65535,
    )
    rows, summary = decode(data)
    assert [r["ts_ns"] for r in rows] == [T0 * 10**9 + frac_ns, (T0 + 1) * 10**9]
    assert [(r["cap_len"], r["wire_len"]) for r in rows] == [(len(pkt), len(pkt)), (40, len(pkt))]
    assert all(r["link_type"] == 1 and r["interface_id"] == 0 for r in rows)
    assert rows[0]["decode_status"] == "ok" and rows[0]["dst_port"] == 443
    assert rows[1]["decode_status"] == "truncated:tcp"
    assert summary.packets == 2 and summary.error is None
    assert summary.first_ts_ns == rows[0]["ts_ns"] and summary.last_ts_ns == rows[1]["ts_ns"]
    assert summary.link_types == [1]
    assert summary.bytes_read == len(data)
    crosscheck(tmp_path, data, must=("frame.time_epoch", "frame.cap_len", "frame.len", "tcp.seq_raw"))


def test_pcap_fcs_bits_in_linktype_field(tmp_path: Path) -> None:
    """The upper bits of the link-type field carry FCS information (tcpdump-bootp_asan: 0x04000001)."""
    data = g.pcap_file([eth_tcp()], linktype=0x04000001)
    rows, _ = decode(data)
    assert rows[0]["link_type"] == 1 and rows[0]["src_port"] == 40000
    crosscheck(tmp_path, data)


@pytest.mark.parametrize("version", [(2, 2), (2, 3), (543, 0)])
def test_pcap_swapped_length_fields(tmp_path: Path, version: tuple[int, int]) -> None:
    """Before pcap 2.3 (and DG/UX 543.0) the record header stored orig_len before incl_len; 2.3 is ambiguous
    and swapped only when incl_len > orig_len (libpcap and wiretap both do this)."""
    pkt = eth_tcp()
    cut = pkt[:54]
    # Written in the old order: the "incl_len" slot holds the original length.
    rec = g.Record(cut, ts_sec=T0, incl_len=len(pkt), orig_len=len(cut))
    data = g.pcap_file([rec, rec], version=version)
    rows, summary = decode(data)
    assert summary.error is None
    assert [(r["cap_len"], r["wire_len"]) for r in rows] == [(54, len(pkt))] * 2
    crosscheck(tmp_path, data)


def test_pcap_24_bit_version_not_swapped() -> None:
    """Version 2.4 never swaps: incl_len > orig_len is taken as written."""
    pkt = eth_tcp()
    rows, _ = decode(g.pcap_file([g.Record(pkt, orig_len=10)]))
    assert (rows[0]["cap_len"], rows[0]["wire_len"]) == (len(pkt), 10)


# ============================================================================================== pcapng


def test_pcapng_multiple_interfaces_and_tsresol(tmp_path: Path) -> None:
    """Per-interface link type and timestamp resolution: 10^-9, 2^-20, the 10^-6 default, 10^-3 + tsoffset."""
    ts = T0 * 10**9 + 987_654_321
    res_ns, res_pow2, res_ms = g.tsresol_byte(9), g.tsresol_byte(20, power_of_two=True), g.tsresol_byte(3)
    eth = eth_tcp()
    raw = bytes(IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=53, dport=5353) / b"x")
    null = struct.pack("<I", 2) + raw
    data = g.pcapng_file(
        g.shb(),
        g.idb(1, tsresol=res_ns, name="eth0"),
        g.idb(101, tsresol=res_pow2),
        g.idb(0),  # default resolution: microseconds
        g.idb(1, tsresol=res_ms, tsoffset=100),
        g.epb(eth, iface=0, ts=g.ts_units(ts, res_ns)),
        g.epb(raw, iface=1, ts=g.ts_units(ts, res_pow2)),
        g.epb(null, iface=2, ts=g.ts_units(ts, None)),
        g.epb(eth, iface=3, ts=g.ts_units(ts - 100 * 10**9, res_ms)),
    )
    rows, summary = decode(data)
    assert [r["interface_id"] for r in rows] == [0, 1, 2, 3]
    assert [r["link_type"] for r in rows] == [1, 101, 0, 1]
    assert rows[0]["ts_ns"] == ts
    assert rows[1]["ts_ns"] == g.units_to_ns(g.ts_units(ts, res_pow2), res_pow2)
    assert abs(rows[1]["ts_ns"] - ts) < 1000  # 2^-20 s is ~954 ns
    assert rows[2]["ts_ns"] == ts // 1000 * 1000
    assert rows[3]["ts_ns"] == ts // 10**6 * 10**6
    assert [r["ip_version"] for r in rows] == [4, 4, 4, 4]
    assert rows[1]["dst_port"] == 5353 and rows[2]["dst_port"] == 5353
    assert summary.link_types == [0, 1, 101]
    crosscheck(tmp_path, data, "multi.pcapng", must=("frame.time_epoch", "frame.interface_id", "tcp/udp.dstport"))


def test_pcapng_simple_packet_block(tmp_path: Path) -> None:
    """SPB: no timestamp (ts_ns null), interface 0, captured length = min(original, snaplen, block data)."""
    pkt = eth_tcp() + b"\x00" * 40  # 102 bytes (Ethernet trailer after the IP packet)
    data = g.pcapng_file(
        g.shb(),
        g.idb(1, snaplen=64),
        g.spb(pkt[:64], orig_len=len(pkt)),
        g.spb(pkt[:40], orig_len=40),
        g.epb(pkt, ts=g.ts_units(T0 * 10**9)),
    )
    rows, summary = decode(data)
    assert [r["ts_ns"] for r in rows] == [None, None, T0 * 10**9]
    assert [(r["cap_len"], r["wire_len"]) for r in rows] == [(64, len(pkt)), (40, 40), (len(pkt), len(pkt))]
    assert rows[0]["decode_status"] == "ok" and rows[0]["dst_port"] == 443  # 64 bytes hold all headers
    assert rows[1]["decode_status"] == "truncated:tcp"
    assert summary.first_ts_ns == summary.last_ts_ns == T0 * 10**9  # SPBs do not count
    crosscheck(tmp_path, data, "spb.pcapng", must=("frame.cap_len", "frame.len"))


def test_pcapng_obsolete_packet_block(tmp_path: Path) -> None:
    pkt = eth_tcp()
    data = g.pcapng_file(g.shb(), g.idb(1), g.idb(1), g.opb(pkt, iface=1, drops=3, ts=g.ts_units(T0 * 10**9)))
    rows, _ = decode(data)
    assert len(rows) == 1
    assert (rows[0]["interface_id"], rows[0]["ts_ns"], rows[0]["tcp_seq"]) == (1, T0 * 10**9, 0xDEADBEEF)
    crosscheck(tmp_path, data, "opb.pcapng", must=("frame.time_epoch",))


def test_pcapng_skips_custom_unknown_and_other_blocks(tmp_path: Path) -> None:
    pkt = eth_tcp()
    data = g.pcapng_file(
        g.shb(opts=[(g.OPT_COMMENT, b"crafted by netqos tests")]),
        g.custom_block(b"vendor data"),
        g.idb(1),
        g.nrb_ipv4(bytes([10, 0, 0, 1]), "a.example"),
        g.unknown_block(0x00007FFF, b"\x00" * 16),
        g.epb(pkt, ts=1, opts=[(g.EPB_FLAGS, struct.pack("<I", 1)), (g.OPT_COMMENT, b"hello")]),
        g.custom_block(b"not copyable", copyable=False),
        g.isb(0),
        g.block(g.BT_DSB, struct.pack("<II", 0x544C534B, 4) + b"keys"),
        g.epb(pkt, ts=2),
    )
    rows, summary = decode(data)
    assert len(rows) == 2 and summary.error is None
    assert [r["ts_ns"] for r in rows] == [1000, 2000]
    assert all(r["tcp_seq"] == 0xDEADBEEF for r in rows)
    crosscheck(tmp_path, data, "blocks.pcapng", must=("tcp.seq_raw",))


def test_pcapng_sections_with_different_byte_orders(tmp_path: Path) -> None:
    """Interface ids restart with every section; a section may switch byte order."""
    eth = eth_tcp()
    raw6 = bytes(IPv6(src="2001:db8::1", dst="2001:db8::2", hlim=7) / UDP(sport=1, dport=2) / b"q")
    data = g.pcapng_file(
        g.shb(endian="<"),
        g.idb(1, endian="<"),
        g.epb(eth, ts=g.ts_units(T0 * 10**9), endian="<"),
        g.shb(endian=">"),
        g.idb(101, tsresol=9, endian=">"),
        g.epb(raw6, ts=T0 * 10**9 + 5, endian=">"),
        g.shb(endian="<"),
        g.idb(229, endian="<"),
        g.idb(1, endian="<"),
        g.epb(eth, iface=1, ts=7, endian="<"),
        g.epb(raw6, iface=0, ts=8, endian="<"),
    )
    rows, summary = decode(data)
    assert [r["link_type"] for r in rows] == [1, 101, 1, 229]
    assert [r["interface_id"] for r in rows] == [0, 0, 1, 0]
    assert [r["ts_ns"] for r in rows] == [T0 * 10**9, T0 * 10**9 + 5, 7000, 8000]
    assert rows[1]["ip_dst"] == "2001:db8::2" and rows[1]["ip_ttl"] == 7 and rows[3]["ip_proto"] == 17
    assert summary.error is None
    crosscheck(tmp_path, data, "sections.pcapng", must=("ip.dst", "frame.interface_id"))


def test_pcapng_big_endian_everything(tmp_path: Path) -> None:
    pkt = eth_tcp()
    data = g.pcapng_file(
        g.shb(endian=">"),
        g.idb(1, tsresol=6, endian=">"),
        g.custom_block(b"x", endian=">"),
        g.epb(pkt, ts=123, endian=">", opts=[(g.OPT_COMMENT, b"be")]),
        g.spb(pkt, endian=">"),
    )
    rows, _ = decode(data)
    assert [r["ts_ns"] for r in rows] == [123_000, None]
    assert all(r["src_port"] == 40000 for r in rows)
    crosscheck(tmp_path, data, "be.pcapng")


# ============================================================================================== link types


def test_ethernet_vlan_and_qinq(tmp_path: Path) -> None:
    inner = IP(src="10.1.1.1", dst="10.1.1.2") / UDP(sport=5000, dport=6000) / b"v"
    single = bytes(Ether(src=MAC_A, dst=MAC_B) / Dot1Q(vlan=42, prio=5) / inner)
    qinq = bytes(Ether(src=MAC_A, dst=MAC_B) / Dot1AD(vlan=10, prio=3) / Dot1Q(vlan=20) / inner)
    qinq_8100 = bytes(Ether(src=MAC_A, dst=MAC_B) / Dot1Q(vlan=100) / Dot1Q(vlan=200) / inner)
    ipv6 = bytes(Ether() / Dot1Q(vlan=7) / IPv6(src="fe80::1", dst="ff02::1") / ICMPv6EchoRequest(id=9, seq=2))
    data = g.pcap_file([single, qinq, qinq_8100, ipv6])
    rows, _ = decode(data)
    assert [(r["vlan_id"], r["vlan_inner_id"], r["vlan_pcp"]) for r in rows] == [
        (42, None, 5),
        (10, 20, 3),
        (100, 200, 0),
        (7, None, 0),
    ]
    assert [r["eth_type"] for r in rows] == [0x0800, 0x0800, 0x0800, 0x86DD]
    assert [r["dst_port"] for r in rows[:3]] == [6000] * 3
    assert (rows[0]["eth_src"], rows[0]["eth_dst"]) == (MAC_A, MAC_B)
    assert (rows[3]["icmp_type"], rows[3]["icmp_id"], rows[3]["icmp_seq"]) == (128, 9, 2)
    crosscheck(tmp_path, data, must=("vlan.id", "vlan.id[inner]", "eth.type", "icmpv6.type"))


def test_ethernet_8023_llc_snap(tmp_path: Path) -> None:
    ip = IP(src="10.2.0.1", dst="10.2.0.2") / TCP(sport=1, dport=2, flags="S")
    snap = bytes(Dot3(src=MAC_A, dst=MAC_B) / LLC(dsap=0xAA, ssap=0xAA, ctrl=3) / SNAP(OUI=0, code=0x0800) / ip)
    stp = bytes(Dot3(src=MAC_A, dst="01:80:c2:00:00:00") / LLC(dsap=0x42, ssap=0x42, ctrl=3) / (b"\x00" * 35))
    data = g.pcap_file([snap, stp])
    rows, _ = decode(data)
    assert (rows[0]["eth_type"], rows[0]["ip_src"], rows[0]["dst_port"]) == (0x0800, "10.2.0.1", 2)
    assert rows[1]["ip_version"] is None and rows[1]["decode_status"] == "ok"
    crosscheck(tmp_path, data)


def _sll(payload: bytes, proto: int, addr: bytes = bytes.fromhex("001122334455")) -> bytes:
    return struct.pack(">HHH", 0, 1, len(addr)) + addr.ljust(8, b"\x00") + struct.pack(">H", proto) + payload


def _sll2(payload: bytes, proto: int, addr: bytes = bytes.fromhex("001122334455")) -> bytes:
    return struct.pack(">HHIHBB", proto, 0, 3, 1, 4, len(addr)) + addr.ljust(8, b"\x00") + payload


@pytest.mark.parametrize(("linktype", "wrap"), [(113, _sll), (276, _sll2)])
def test_linux_cooked(tmp_path: Path, linktype: int, wrap: Any) -> None:
    v4 = bytes(IP(src="10.3.0.1", dst="10.3.0.2", ttl=9) / TCP(sport=6379, dport=50000, flags="PA") / b"+OK\r\n")
    v6 = bytes(IPv6(src="2001:db8::a", dst="2001:db8::b") / UDP(sport=123, dport=123) / b"ntp")
    data = g.pcap_file([wrap(v4, 0x0800), wrap(v6, 0x86DD), wrap(v4, 0x0800, b"\x01\x02")], linktype=linktype)
    rows, _ = decode(data)
    assert [r["eth_src"] for r in rows] == [MAC_A, MAC_A, None]  # only a 6-byte address is a MAC
    assert [r["eth_type"] for r in rows] == [0x0800, 0x86DD, 0x0800]
    assert [r["ip_version"] for r in rows] == [4, 6, 4]
    assert rows[0]["ip_ttl"] == 9 and rows[0]["l4_payload_len"] == 5 and rows[1]["udp_len"] == 11
    crosscheck(tmp_path, data, must=("eth.src", "eth.type", "ip.src"))


@pytest.mark.parametrize("linktype", [101, 12, 14, 228, 229])
def test_raw_ip(tmp_path: Path, linktype: int) -> None:
    v4 = bytes(IP(src="198.51.100.1", dst="198.51.100.2") / UDP(sport=7, dport=9) / b"d")
    v6 = bytes(IPv6(src="2001:db8::1", dst="2001:db8::2") / TCP(sport=80, dport=8080, flags="A"))
    pkts = {101: [v4, v6], 12: [v4, v6], 14: [v4, v6], 228: [v4], 229: [v6]}[linktype]
    data = g.pcap_file(pkts, linktype=linktype)
    rows, _ = decode(data)
    assert [r["ip_version"] for r in rows] == [bytes(p)[0] >> 4 for p in pkts]
    assert all(r["decode_status"] == "ok" and r["dst_port"] in (9, 8080) for r in rows)
    assert all(r["eth_src"] is None and r["eth_type"] is None for r in rows)
    if linktype != 14:  # tshark maps 14 to a different (ATM RFC1483) encapsulation
        crosscheck(tmp_path, data, must=("ip.src", "tcp/udp.dstport"))


def test_raw_ip_bad_version() -> None:
    assert one(b"\x50" + b"\x00" * 30, linktype=101)["decode_status"] == "malformed:ip_version"
    assert one(b"\x60" + b"\x00" * 30, linktype=228)["decode_status"] == "malformed:ip_version"


@pytest.mark.parametrize(
    ("linktype", "header", "version"),
    [
        (0, struct.pack("<I", 2), 4),  # NULL, little-endian host
        (0, struct.pack(">I", 2), 4),  # NULL, big-endian host
        (0, struct.pack("<I", 24), 6),  # NetBSD/OpenBSD AF_INET6
        (0, struct.pack(">I", 24), 6),
        (0, struct.pack("<I", 28), 6),  # FreeBSD/DragonFly
        (0, struct.pack(">I", 28), 6),
        (0, struct.pack("<I", 30), 6),  # macOS
        (0, struct.pack(">I", 30), 6),
        (108, struct.pack(">I", 2), 4),  # LOOP: always network byte order
        (108, struct.pack(">I", 24), 6),
    ],
)
def test_null_and_loop(tmp_path: Path, linktype: int, header: bytes, version: int) -> None:
    ip = (
        IP(src="127.0.0.1", dst="127.0.0.1") / UDP(sport=1812, dport=1813)
        if version == 4
        else IPv6(src="::1", dst="::1") / UDP(sport=1812, dport=1813)
    )
    data = g.pcap_file([header + bytes(ip / b"radius")], linktype=linktype)
    rows, _ = decode(data)
    assert (rows[0]["ip_version"], rows[0]["dst_port"], rows[0]["decode_status"]) == (version, 1813, "ok")
    crosscheck(tmp_path, data, must=("ip.version", "tcp/udp.dstport"))


def test_null_unknown_family() -> None:
    row = one(struct.pack("<I", 7) + bytes(IP() / UDP()), linktype=0)
    assert row["ip_version"] is None and row["decode_status"] == "ok"


def _wlan_data(fc: int, *, qos: bool = True, tid: int = 5, body: Any = None, addr4: str | None = None) -> bytes:
    d = Dot11(
        type=2, subtype=8 if qos else 0, FCfield=fc, ID=314, addr1=MAC_A, addr2=MAC_B, addr3=MAC_C, SC=(1234 << 4) | 2
    )
    if addr4 is not None:
        d.addr4 = addr4
    p = d / Dot11QoS(TID=tid) if qos else d
    if body is None:
        body = IP(src="10.9.0.1", dst="10.9.0.2") / UDP(sport=5353, dport=5353) / b"m"
    return bytes(p / LLC(dsap=0xAA, ssap=0xAA, ctrl=3) / SNAP(OUI=0, code=0x0800) / body)


def test_ieee80211(tmp_path: Path) -> None:
    frames = [
        _wlan_data(0x01 | 0x08),  # to-DS + retry, QoS TID 5
        _wlan_data(0x02, qos=False),  # from-DS, plain data
        _wlan_data(0x03, addr4=MAC_D),  # WDS (4 addresses)
        bytes(
            Dot11(type=0, subtype=8, addr1="ff:ff:ff:ff:ff:ff", addr2=MAC_B, addr3=MAC_B, SC=7 << 4)
            / Dot11Beacon()
            / Dot11Elt(ID=0, info=b"netqos")
        ),
        bytes(Dot11(type=1, subtype=13, addr1=MAC_A)),  # ACK: one address
        bytes(Dot11(type=1, subtype=11, addr1=MAC_A, addr2=MAC_B)),  # RTS: two addresses
        _wlan_data(0x41),  # protected: body not decoded
    ]
    data = g.pcap_file(frames, linktype=105)
    rows, _ = decode(data)
    r = rows[0]
    assert (r["wlan_fc_type"], r["wlan_fc_subtype"], r["wlan_to_ds"], r["wlan_from_ds"], r["wlan_retry"]) == (
        2,
        8,
        True,
        False,
        True,
    )
    assert (r["wlan_seq"], r["wlan_frag"], r["wlan_qos_tid"], r["wlan_duration"]) == (1234, 2, 5, 314)
    assert (r["wlan_addr1"], r["wlan_addr2"], r["wlan_addr3"], r["wlan_bssid"]) == (MAC_A, MAC_B, MAC_C, MAC_A)
    assert (r["eth_type"], r["ip_src"], r["dst_port"]) == (0x0800, "10.9.0.1", 5353)
    assert rows[1]["wlan_bssid"] == MAC_B and rows[1]["wlan_qos_tid"] is None and rows[1]["dst_port"] == 5353
    assert rows[2]["wlan_addr4"] == MAC_D and rows[2]["wlan_bssid"] is None and rows[2]["dst_port"] == 5353
    assert (rows[3]["wlan_fc_type"], rows[3]["wlan_bssid"], rows[3]["wlan_seq"]) == (0, MAC_B, 7)
    assert (rows[4]["wlan_addr1"], rows[4]["wlan_addr2"]) == (MAC_A, None)
    assert (rows[5]["wlan_addr1"], rows[5]["wlan_addr2"]) == (MAC_A, MAC_B)
    assert rows[6]["wlan_protected"] is True and rows[6]["ip_version"] is None
    assert all(r["decode_status"] == "ok" for r in rows)
    crosscheck(
        tmp_path, data, must=("wlan.fc.ds", "wlan.sa", "wlan.da", "wlan.bssid", "wlan.qos.tid", "wlan.ta", "ip.src")
    )


def radiotap(
    *,
    tsft: int = 0x0102030405060708,
    flags: int = 0x00,
    rate: int = 22,
    freq: int = 2437,
    chan_flags: int = 0x00A0,
    signal: int = -42,
    noise: int = -95,
    mcs: tuple[int, int, int] | None = (0x07, 0x01, 7),
    ext_bitmap: bool = False,
) -> bytes:
    """Radiotap with TSFT, flags, rate, channel, dBm signal/noise and optionally MCS (hand-aligned)."""
    present = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 3) | (1 << 5) | (1 << 6)
    if mcs is not None:
        present |= 1 << 19
    words = [present | (0x80000000 if ext_bitmap else 0)]
    if ext_bitmap:
        words.append(0)  # a second (empty) presence word
    head_len = 4 + 4 * len(words)
    body = b"\x00" * (-head_len % 8)  # TSFT is 8-byte aligned
    body += struct.pack("<QBBHHbb", tsft, flags, rate, freq, chan_flags, signal, noise)
    if mcs is not None:
        body += bytes(mcs)
    total = head_len + len(body)
    return struct.pack("<BBH", 0, 0, total) + b"".join(struct.pack("<I", w) for w in words) + body


@pytest.mark.parametrize("ext_bitmap", [False, True])
def test_radiotap(tmp_path: Path, ext_bitmap: bool) -> None:
    wlan = _wlan_data(0x01)
    fcs = b"\xde\xad\xbe\xef"
    frames = [
        radiotap(ext_bitmap=ext_bitmap) + wlan,
        radiotap(flags=0x10, rate=108, freq=5180, signal=-70, noise=-100, mcs=None, ext_bitmap=ext_bitmap)
        + wlan
        + fcs,  # FCS at the end (flags 0x10): not part of the IP packet
    ]
    data = g.pcap_file(frames, linktype=127)
    rows, _ = decode(data)
    a, b = rows
    assert (a["rt_tsft"], a["rt_flags"], a["rt_rate_mbps"]) == (0x0102030405060708, 0, 11.0)
    assert (a["rt_channel_freq"], a["rt_channel_flags"], a["rt_dbm_antsignal"], a["rt_dbm_antnoise"]) == (
        2437,
        0x00A0,
        -42,
        -95,
    )
    assert (a["rt_mcs_index"], a["rt_mcs_bw"]) == (7, 1)
    assert (b["rt_rate_mbps"], b["rt_channel_freq"], b["rt_dbm_antsignal"], b["rt_mcs_index"]) == (
        54.0,
        5180,
        -70,
        None,
    )
    assert a["wlan_qos_tid"] == 5 and a["dst_port"] == 5353 and b["dst_port"] == 5353
    assert b["l4_payload_len"] == 1 and b["decode_status"] == "ok"
    crosscheck(
        tmp_path,
        data,
        must=(
            "radiotap.datarate",
            "radiotap.channel.freq",
            "radiotap.dbm_antsignal",
            "radiotap.dbm_antnoise",
            "radiotap.mcs.index",
            "radiotap.mactime",
            "tcp/udp.dstport",
        ),
    )


def test_radiotap_mcs_unknown_index() -> None:
    """MCS 'known' bit 0x02 clear: the index byte is meaningless, so null."""
    row = one(radiotap(mcs=(0x01, 0x00, 5)) + _wlan_data(0x01), linktype=127)
    assert row["rt_mcs_index"] is None and row["rt_mcs_bw"] == 0


# ============================================================================================== IP and L4


def test_ipv4_options_and_fragments(tmp_path: Path) -> None:
    opts = bytes(
        Ether() / IP(src="10.4.0.1", dst="10.4.0.2", options=[IPOption_RR(routers=["1.1.1.1"])]) / TCP(sport=1, dport=2)
    )
    big = IP(src="10.4.0.1", dst="10.4.0.3", id=777, proto=17) / UDP(sport=11, dport=22) / (b"z" * 100)
    frag1 = Ether() / IP(bytes(big)[:20] + bytes(big)[20:68])  # first fragment: 48 bytes
    frag1[IP].flags = "MF"
    frag1[IP].len = None
    frag2 = Ether() / IP(src="10.4.0.1", dst="10.4.0.3", id=777, proto=17, frag=6) / bytes(big)[68:]
    data = g.pcap_file([opts, bytes(frag1), bytes(frag2)])
    rows, _ = decode(data)
    a, f1, f2 = rows
    assert (a["ip_hdr_len"], a["ip_options_len"], a["dst_port"]) == (28, 8, 2)
    assert (f1["ip_flags_mf"], f1["ip_frag_offset"], f1["ip_id"], f1["src_port"], f1["udp_len"]) == (
        True,
        0,
        777,
        11,
        108,
    )
    assert (f2["ip_flags_mf"], f2["ip_frag_offset"], f2["src_port"], f2["ip_proto"]) == (False, 48, None, 17)
    assert all(r["decode_status"] == "ok" for r in rows)
    crosscheck(tmp_path, data, must=("ip.hdr_len", "ip.frag_offset", "ip.flags.mf", "ip.id"))


def test_ipv6_extension_headers(tmp_path: Path) -> None:
    src, dst = "2001:db8:0:1::1", "2001:db8:0:2::2"
    chain = (
        IPv6(src=src, dst=dst, tc=0xB8, fl=0xABCDE, hlim=3)
        / IPv6ExtHdrHopByHop()
        / IPv6ExtHdrRouting(addresses=["2001:db8::99"], segleft=0)
        / IPv6ExtHdrFragment(id=0x12345678, offset=0, m=1)
        / IPv6ExtHdrDestOpt()
        / TCP(sport=179, dport=50179, flags="S", options=[("MSS", 1440)])
    )
    later_frag = IPv6(src=src, dst=dst) / IPv6ExtHdrFragment(id=0x12345678, offset=10, m=0, nh=6) / (b"x" * 16)
    ns = IPv6(src="fe80::1", dst="ff02::1:ff00:2", hlim=255) / ICMPv6ND_NS(tgt="fe80::2")
    data = g.pcap_file([bytes(Ether() / p) for p in (chain, later_frag, ns)])
    rows, _ = decode(data)
    a, b, c = rows
    assert a["ipv6_ext_headers"] == "hop,routing,frag,dest"
    assert (a["ip_proto"], a["ip_hdr_len"], a["ip_dscp"], a["ip_ecn"], a["ipv6_flow_label"]) == (
        6,
        40 + 8 + 24 + 8 + 8,
        0xB8 >> 2,
        0,
        0xABCDE,
    )
    assert (a["ip_id"], a["ip_flags_mf"], a["ip_frag_offset"], a["tcp_opt_mss"], a["dst_port"]) == (
        0x12345678,
        True,
        0,
        1440,
        50179,
    )
    assert (b["ipv6_ext_headers"], b["ip_frag_offset"], b["ip_flags_mf"], b["src_port"]) == ("frag", 80, False, None)
    assert (c["ip_ttl"], c["icmp_type"], c["icmp_code"], c["ipv6_ext_headers"]) == (255, 135, 0, None)
    assert all(r["decode_status"] == "ok" for r in rows)
    crosscheck(tmp_path, data, must=("ip.proto", "ip.frag_offset", "ip.id", "tcp.options.mss_val", "icmpv6.type"))


def test_tcp_options(tmp_path: Path) -> None:
    syn = eth_tcp(options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (123456, 0)), ("NOP", None), ("WScale", 7)])
    ack = eth_tcp(options=[("NOP", None), ("NOP", None), ("Timestamp", (99, 77)), ("SAck", (1000, 2000, 3000, 4000))])
    plain = eth_tcp()
    data = g.pcap_file([syn, ack, plain])
    rows, _ = decode(data)
    s, a, p = rows
    assert (
        s["tcp_opt_mss"],
        s["tcp_opt_wscale"],
        s["tcp_opt_sack_perm"],
        s["tcp_opt_ts_val"],
        s["tcp_opt_ts_ecr"],
    ) == (
        1460,
        7,
        True,
        123456,
        0,
    )
    assert s["tcp_hdr_len"] == 40 and s["tcp_flags"] == 0x12 and s["tcp_opt_sack_blocks"] is None
    assert (a["tcp_opt_sack_blocks"], a["tcp_opt_ts_val"], a["tcp_opt_ts_ecr"], a["tcp_opt_mss"]) == (
        [1000, 2000, 3000, 4000],
        99,
        77,
        None,
    )
    assert a["tcp_opt_sack_perm"] is False
    assert (p["tcp_hdr_len"], p["tcp_opt_ts_val"], p["l4_payload_len"], p["tcp_window"]) == (20, None, 8, 29200)
    assert (p["tcp_seq"], p["tcp_ack"], p["ip_dscp"], p["ip_ecn"], p["ip_flags_df"]) == (
        0xDEADBEEF,
        0x01020304,
        0xB9 >> 2,
        1,
        True,
    )
    crosscheck(
        tmp_path,
        data,
        must=(
            "tcp.options.mss_val",
            "tcp.options.wscale.shift",
            "tcp.options.sack_perm",
            "tcp.options.sack_le/re",
            "tcp.options.timestamp.tsval",
            "tcp.options.timestamp.tsecr",
            "tcp.len",
            "ip.dsfield.dscp",
            "ip.dsfield.ecn",
            "ip.flags.df",
        ),
    )


def test_tcp_flags_ae_and_reserved(tmp_path: Path) -> None:
    """tcp_flags carries the 12-bit field like tshark's tcp.flags: AE (0x100) and the reserved bits too."""
    raw = bytearray(eth_tcp())
    raw[14 + 20 + 12] |= 0x0F  # data-offset byte: low nibble = reserved (0xE00) + AE (0x100)
    rows, _ = decode(g.pcap_file([bytes(raw)]))
    assert rows[0]["tcp_flags"] == 0xF12
    crosscheck(tmp_path, g.pcap_file([bytes(raw)]), must=("tcp.flags",))


def test_udp_icmp_icmpv6(tmp_path: Path) -> None:
    udp = bytes(Ether() / IP(src="10.5.0.1", dst="10.5.0.2") / UDP(sport=5060, dport=5061) / (b"s" * 30))
    echo = bytes(Ether() / IP() / ICMP(type=8, id=0x1234, seq=7) / b"ping")
    unreach = bytes(
        Ether()
        / IP(src="10.5.0.9", dst="10.5.0.1")
        / ICMP(type=3, code=3)
        / IP(src="10.5.0.1", dst="10.5.0.2")
        / UDP(sport=5060, dport=5061)
    )
    echo6 = bytes(Ether() / IPv6() / ICMPv6EchoRequest(id=5, seq=6))
    data = g.pcap_file([udp, echo, unreach, echo6])
    rows, _ = decode(data)
    u, e, x, e6 = rows
    assert (u["udp_len"], u["l4_payload_len"], u["src_port"], u["dst_port"]) == (38, 30, 5060, 5061)
    assert (e["icmp_type"], e["icmp_code"], e["icmp_id"], e["icmp_seq"]) == (8, 0, 0x1234, 7)
    # ICMP error quoting IP/UDP: the outer header wins, the quoted ports are not this packet's ports.
    assert (x["icmp_type"], x["icmp_code"], x["ip_src"], x["src_port"], x["icmp_id"]) == (3, 3, "10.5.0.9", None, None)
    assert (e6["icmp_type"], e6["icmp_id"], e6["icmp_seq"]) == (128, 5, 6)
    crosscheck(tmp_path, data, must=("udp.length", "udp payload (udp.length-8)", "icmp.type", "icmp.ident"))


def test_pppoe_session(tmp_path: Path) -> None:
    """PPPoE session frames are followed into IPv4/IPv6 (eth_type stays 0x8864)."""
    ip = bytes(IP(src="10.6.0.1", dst="10.6.0.2") / UDP(sport=53, dport=53) / b"q")
    pppoe = struct.pack(">BBHH", 0x11, 0, 0x0001, len(ip) + 2) + struct.pack(">H", 0x0021) + ip
    frame = bytes(Ether(src=MAC_A, dst=MAC_B, type=0x8864)) + pppoe
    data = g.pcap_file([frame])
    rows, _ = decode(data)
    assert (rows[0]["eth_type"], rows[0]["ip_src"], rows[0]["dst_port"]) == (0x8864, "10.6.0.1", 53)
    crosscheck(tmp_path, data, must=("ip.src",))
