"""Crafted TCP conversations for the TCP-analysis tests, each with the Wireshark flags expected per frame.

A scenario is a list of segments written with sequence numbers relative to each side's ISN. It renders to
  * `table()`: a pyarrow table in the packets schema with only the columns analyze() reads, and
  * `pcap()`: a real Ethernet/IPv4 capture (scapy), so the oracle test can run tshark on the very same frames.

The unit tests check analyze() against `expect`; tests/oracle/test_tcp_analysis_vs_tshark.py checks that
tshark 4.0 agrees with analyze() on every scenario, so the expectations themselves are Wireshark's.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import pyarrow as pa

from netqos.decode.schema import PACKET_SCHEMA

CLIENT = ("10.0.0.1", 40000)
SERVER = ("10.0.0.2", 80)
T0_NS = 1_700_000_000 * 10**9

FLAG_BITS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10}

# Flag names (column = "tcp_" + name) and their tshark field.
FLAGS: dict[str, str] = {
    "retransmission": "tcp.analysis.retransmission",
    "fast_retransmission": "tcp.analysis.fast_retransmission",
    "spurious_retransmission": "tcp.analysis.spurious_retransmission",
    "out_of_order": "tcp.analysis.out_of_order",
    "lost_segment": "tcp.analysis.lost_segment",
    "ack_lost_segment": "tcp.analysis.ack_lost_segment",
    "dup_ack": "tcp.analysis.duplicate_ack",
    "zero_window": "tcp.analysis.zero_window",
    "zero_window_probe": "tcp.analysis.zero_window_probe",
    "zero_window_probe_ack": "tcp.analysis.zero_window_probe_ack",
    "keep_alive": "tcp.analysis.keep_alive",
    "keep_alive_ack": "tcp.analysis.keep_alive_ack",
    "window_update": "tcp.analysis.window_update",
    "window_full": "tcp.analysis.window_full",
    "reused_ports": "tcp.analysis.reused_ports",
}


@dataclass(frozen=True)
class Seg:
    t_ms: float
    d: int  # 0 = client -> server, 1 = server -> client
    flags: str  # letters of FLAG_BITS, e.g. "S", "SA", "PA", "FA"
    seq: int  # relative to the sender's ISN
    ack: int = 0  # relative to the receiver's ISN (written as 0 when there is no A flag)
    length: int = 0
    win: int = 65535
    wscale: int | None = None
    sack: tuple[tuple[int, int], ...] = ()  # SACK blocks, relative to the receiver's ISN (like `ack`)
    expect: frozenset[str] = frozenset()  # flag names; "retransmission" is implied by fast/spurious
    conn: int = 0  # which (client ISN, server ISN) pair of the scenario
    vlan: int | None = None

    @property
    def expected(self) -> frozenset[str]:
        if self.expect & {"fast_retransmission", "spurious_retransmission"}:
            return self.expect | {"retransmission"}
        return self.expect


@dataclass
class Scenario:
    name: str
    segs: list[Seg]
    isns: list[tuple[int, int]] = field(default_factory=lambda: [(1_000_000, 5_000_000)])

    def abs_seq(self, s: Seg) -> int:
        return (self.isns[s.conn][s.d] + s.seq) & 0xFFFFFFFF

    def abs_ack(self, s: Seg) -> int:
        if "A" not in s.flags:
            return 0
        return (self.isns[s.conn][1 - s.d] + s.ack) & 0xFFFFFFFF

    def sack_abs(self, s: Seg) -> list[int]:
        base = self.isns[s.conn][1 - s.d]
        return [(base + edge) & 0xFFFFFFFF for block in s.sack for edge in block]

    def ts_ns(self, s: Seg) -> int:
        return T0_NS + round(s.t_ms * 1_000_000)

    def table(self) -> pa.Table:
        rows: dict[str, list[object]] = {name: [] for name in _TABLE_COLUMNS}
        for i, s in enumerate(self.segs):
            src, dst = (CLIENT, SERVER) if s.d == 0 else (SERVER, CLIENT)
            rows["frame_no"].append(i + 1)
            rows["ts_ns"].append(self.ts_ns(s))
            rows["ip_version"].append(4)
            rows["ip_src"].append(src[0])
            rows["ip_dst"].append(dst[0])
            rows["ip_proto"].append(6)
            rows["src_port"].append(src[1])
            rows["dst_port"].append(dst[1])
            rows["tcp_flags"].append(sum(FLAG_BITS[c] for c in s.flags))
            rows["tcp_seq"].append(self.abs_seq(s))
            rows["tcp_ack"].append(self.abs_ack(s))
            rows["tcp_window"].append(s.win)
            rows["tcp_opt_wscale"].append(s.wscale)
            rows["tcp_opt_sack_blocks"].append(self.sack_abs(s) or None)
            rows["l4_payload_len"].append(s.length)
            rows["vlan_id"].append(s.vlan)
        schema = pa.schema([PACKET_SCHEMA.field(name) for name in _TABLE_COLUMNS])
        return pa.Table.from_pydict(rows, schema=schema)

    def pcap(self) -> bytes:
        from scapy.layers.inet import IP, TCP
        from scapy.layers.l2 import Dot1Q, Ether

        out = [struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 1)]  # nanosecond pcap, Ethernet
        for s in self.segs:
            src, dst = (CLIENT, SERVER) if s.d == 0 else (SERVER, CLIENT)
            opts: list[tuple[str, object]] = [("WScale", s.wscale)] if s.wscale is not None else []
            if s.sack:
                opts += [("NOP", None), ("NOP", None), ("SAck", tuple(self.sack_abs(s)))]
            tcp = TCP(
                sport=src[1], dport=dst[1], flags=s.flags, seq=self.abs_seq(s), ack=self.abs_ack(s),
                window=s.win, options=opts,
            )  # fmt: skip
            l2 = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
            if s.vlan is not None:
                l2 = l2 / Dot1Q(vlan=s.vlan)
            frame = bytes(l2 / IP(src=src[0], dst=dst[0]) / tcp / (b"x" * s.length))
            ts = self.ts_ns(s)
            out.append(struct.pack("<IIII", ts // 10**9, ts % 10**9, len(frame), len(frame)) + frame)
        return b"".join(out)


_TABLE_COLUMNS = [
    "frame_no", "ts_ns", "ip_version", "ip_src", "ip_dst", "ip_proto", "src_port", "dst_port", "tcp_flags",
    "tcp_seq", "tcp_ack", "tcp_window", "tcp_opt_wscale", "tcp_opt_sack_blocks", "l4_payload_len", "vlan_id",
]  # fmt: skip


def handshake(t0: float = 0.0, rtt_ms: float = 20.0, conn: int = 0, *, wscale: int | None = None) -> list[Seg]:
    return [
        Seg(t0, 0, "S", 0, wscale=wscale, conn=conn),
        Seg(t0 + rtt_ms / 2, 1, "SA", 0, 1, wscale=wscale, conn=conn),
        Seg(t0 + rtt_ms, 0, "A", 1, 1, conn=conn),
    ]


def _x(*names: str) -> frozenset[str]:
    return frozenset(names)


SCENARIOS: list[Scenario] = [
    Scenario(
        "clean",
        [
            *handshake(),
            Seg(21, 0, "PA", 1, 1, 100),
            Seg(31, 1, "A", 1, 101),
            Seg(32, 1, "PA", 1, 101, 200),
            Seg(42, 0, "A", 101, 201),
            Seg(50, 0, "FA", 101, 201),
            Seg(60, 1, "FA", 201, 102),
            Seg(70, 0, "A", 102, 202),
        ],
    ),
    Scenario(
        "retransmission",
        [
            *handshake(),
            Seg(30, 0, "PA", 1, 1, 100),
            Seg(330, 0, "PA", 1, 1, 100, expect=_x("retransmission")),
            Seg(340, 1, "A", 1, 101),
        ],
    ),
    Scenario(
        "fast_retransmission",
        [
            *handshake(),
            Seg(30, 1, "PA", 1, 1, 100),
            Seg(31, 1, "PA", 101, 1, 100),
            Seg(32, 1, "PA", 201, 1, 100),
            Seg(33, 1, "PA", 301, 1, 100),
            Seg(40, 0, "A", 1, 101),
            Seg(41, 0, "A", 1, 101, expect=_x("dup_ack")),
            Seg(42, 0, "A", 1, 101, expect=_x("dup_ack")),
            Seg(43, 0, "A", 1, 101, expect=_x("dup_ack")),
            Seg(45, 1, "PA", 101, 1, 100, expect=_x("fast_retransmission")),
            Seg(55, 0, "A", 1, 401),
            Seg(56, 0, "A", 1, 401, expect=_x("dup_ack")),
        ],
    ),
    Scenario(
        "out_of_order",
        [
            *handshake(rtt_ms=50),
            Seg(60, 0, "PA", 1, 1, 100),
            Seg(61, 0, "PA", 201, 1, 100, expect=_x("lost_segment")),
            Seg(62, 0, "PA", 101, 1, 100, expect=_x("out_of_order")),
            Seg(70, 1, "A", 1, 301),
        ],
    ),
    Scenario(
        "spurious_retransmission",
        [
            *handshake(),
            Seg(30, 0, "PA", 1, 1, 100),
            Seg(40, 1, "A", 1, 101),
            Seg(300, 0, "PA", 1, 1, 100, expect=_x("spurious_retransmission")),
        ],
    ),
    Scenario(
        "zero_window",
        [
            *handshake(),
            Seg(30, 0, "PA", 1, 1, 100),
            Seg(40, 1, "A", 1, 101, win=0, expect=_x("zero_window")),
            Seg(200, 0, "PA", 101, 1, 1, expect=_x("zero_window_probe")),
            Seg(210, 1, "A", 1, 101, win=0, expect=_x("zero_window", "zero_window_probe_ack")),
            Seg(300, 1, "A", 1, 101, win=65535, expect=_x("window_update")),
            Seg(310, 0, "PA", 101, 1, 100),
            Seg(320, 1, "A", 1, 201),
        ],
    ),
    Scenario(
        "keep_alive",
        [
            *handshake(),
            Seg(30, 0, "PA", 1, 1, 100),
            Seg(40, 1, "A", 1, 101),
            Seg(10_040, 0, "A", 100, 1, expect=_x("keep_alive")),
            Seg(10_050, 1, "A", 1, 101, expect=_x("keep_alive_ack")),
            Seg(20_040, 0, "A", 100, 1, 1, expect=_x("keep_alive")),
            Seg(20_050, 1, "A", 1, 101, expect=_x("keep_alive_ack")),
        ],
    ),
    Scenario(
        "window_full",
        [
            Seg(0, 0, "S", 0, win=64240, wscale=7),
            Seg(10, 1, "SA", 0, 1, wscale=7),
            Seg(20, 0, "A", 1, 1, win=8),  # 8 << 7 = 1024 bytes
            Seg(30, 1, "PA", 1, 1, 1024, expect=_x("window_full")),
            Seg(40, 0, "A", 1, 1025, win=8),
            Seg(41, 1, "PA", 1025, 1, 512),
        ],
    ),
    Scenario(
        "window_full_without_scaling",  # no wscale option on the SYNs: the raw window is the window
        [
            Seg(0, 0, "S", 0),
            Seg(10, 1, "SA", 0, 1),
            Seg(20, 0, "A", 1, 1, win=1000),
            Seg(30, 1, "PA", 1, 1, 1000, expect=_x("window_full")),
        ],
    ),
    Scenario(
        "window_full_unknown_scale",  # handshake not captured: scale unknown, Wireshark never says window full
        [
            Seg(20, 0, "A", 1, 1, win=8),
            Seg(30, 1, "PA", 1, 1, 1024),
            Seg(40, 0, "A", 1, 1025, win=8),
            Seg(41, 1, "PA", 1025, 1, 8),
        ],
    ),
    Scenario(
        "sack_bytes_in_flight",
        [
            *handshake(),
            Seg(30, 1, "PA", 1, 1, 100),
            Seg(31, 1, "PA", 101, 1, 100),
            Seg(32, 1, "PA", 201, 1, 100),
            Seg(33, 1, "PA", 301, 1, 100),
            Seg(40, 0, "A", 1, 101, sack=((201, 401),)),
            Seg(41, 1, "PA", 401, 1, 100),
            Seg(50, 0, "A", 1, 101, sack=((201, 501),), expect=_x("dup_ack")),
            Seg(51, 1, "PA", 101, 1, 100, expect=_x("out_of_order")),  # 10 ms after frame 8 < 20 ms initial RTT
            Seg(60, 0, "A", 1, 501),
        ],
    ),
    Scenario(
        "ack_lost_segment",
        [
            *handshake(),
            Seg(30, 0, "PA", 1, 1, 100),
            Seg(40, 1, "A", 1, 201, expect=_x("ack_lost_segment")),
            Seg(50, 0, "PA", 201, 1, 100, expect=_x("lost_segment")),
        ],
    ),
    Scenario(
        "port_reuse",
        [
            *handshake(),
            Seg(30, 0, "FA", 1, 1),
            Seg(40, 1, "FA", 1, 2),
            Seg(50, 0, "A", 2, 2),
            *[
                Seg(s.t_ms, s.d, s.flags, s.seq, s.ack, conn=1, expect=_x("reused_ports") if i == 0 else _x())
                for i, s in enumerate(handshake(t0=1000))
            ],
            Seg(1030, 0, "PA", 1, 1, 10, conn=1),
        ],
        isns=[(1_000_000, 5_000_000), (77_000_000, 99_000_000)],
    ),
    Scenario(
        "syn_retransmission",
        [
            Seg(0, 0, "S", 0),
            Seg(1000, 0, "S", 0, expect=_x("retransmission")),
            Seg(1010, 1, "SA", 0, 1),
            Seg(1020, 0, "A", 1, 1),
        ],
    ),
    Scenario(
        "sequence_wrap",
        [
            *handshake(),
            Seg(30, 0, "PA", 1, 1, 200),
            Seg(31, 0, "PA", 201, 1, 200),  # crosses 2**32 in absolute numbers
            Seg(32, 0, "PA", 401, 1, 200),
            Seg(40, 1, "A", 1, 201),
            Seg(400, 0, "PA", 201, 1, 200, expect=_x("retransmission")),
            Seg(410, 1, "A", 1, 601),
        ],
        isns=[(0xFFFFFF00, 5_000_000)],
    ),
    Scenario(
        "vlans",  # the same 5-tuple on two VLANs: two conversations, unless VLANs are ignored (tshark 4.0)
        [
            Seg(0, 0, "S", 0, vlan=10),
            Seg(1, 0, "S", 0, vlan=20),
            Seg(10, 1, "SA", 0, 1, vlan=10),
            Seg(11, 1, "SA", 0, 1, vlan=20),
            Seg(20, 0, "A", 1, 1, vlan=10),
            Seg(21, 0, "A", 1, 1, vlan=20),
            Seg(30, 0, "PA", 1, 1, 100, vlan=10),
            Seg(31, 0, "PA", 1, 1, 100, vlan=20),
            Seg(40, 1, "A", 1, 101, vlan=10),
            Seg(41, 1, "A", 1, 101, vlan=20),
        ],
    ),
]

BY_NAME = {s.name: s for s in SCENARIOS}
