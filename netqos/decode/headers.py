"""Header layouts as data: each fixed-offset field is (column, offset, width, shift, mask, ...).

A `Header` is anchored on a column of the walk matrix (the header's start offset, found by walk.py) and
applies to the rows matching its `when` conditions. Adding a protocol = adding a table here (and, if its
position is not fixed, teaching walk.py to find it).
"""

from __future__ import annotations

from dataclasses import dataclass

from netqos.decode import linktypes as lt
from netqos.decode import walk as w


@dataclass(frozen=True)
class Field:
    column: str
    offset: int
    width: int = 1  # bytes
    shift: int = 0  # right shift after reading
    mask: int = 0  # applied after the shift; 0 = none
    little: bool = False  # byte order (network order by default)
    signed: bool = False  # two's complement of `width` bytes
    scale: float = 1  # multiplier applied last
    add: int = 0  # added last
    # Only valid where (byte at valid_offset) & valid_bits != 0, e.g. radiotap MCS "known" bits.
    valid_offset: int = -1
    valid_bits: int = 0


@dataclass(frozen=True)
class Header:
    name: str
    anchor: int  # walk column holding the header's start offset
    fields: tuple[Field, ...]
    when: tuple[tuple[int, int], ...] = ()  # (walk column, required value) pairs


F = Field

HEADERS: tuple[Header, ...] = (
    Header("vlan", w.W_VLAN1, (F("vlan_id", 0, 2, mask=0x0FFF), F("vlan_pcp", 0, 1, shift=5))),
    Header("vlan_inner", w.W_VLAN2, (F("vlan_inner_id", 0, 2, mask=0x0FFF),)),
    Header(
        "ipv4",
        w.W_L3,
        (
            F("ip_dscp", 1, 1, shift=2),
            F("ip_ecn", 1, 1, mask=0x03),
            F("ip_len", 2, 2),
            F("ip_id", 4, 2),
            F("ip_flags_df", 6, 1, shift=6, mask=1),
            F("ip_flags_mf", 6, 1, shift=5, mask=1),
            F("ip_frag_offset", 6, 2, mask=0x1FFF, scale=8),
            F("ip_ttl", 8, 1),
        ),
        when=((w.W_IP_VER, 4),),
    ),
    Header(
        "ipv6",
        w.W_L3,
        (
            F("ip_dscp", 0, 2, shift=6, mask=0x3F),
            F("ip_ecn", 0, 2, shift=4, mask=0x03),
            F("ipv6_flow_label", 0, 4, mask=0xFFFFF),
            F("ip_len", 4, 2, add=40),
            F("ip_ttl", 7, 1),
        ),
        when=((w.W_IP_VER, 6),),
    ),
    Header(
        "ipv6_fragment",
        w.W_IP6_FRAG,
        (
            F("ip_frag_offset", 2, 2, shift=3, scale=8),
            F("ip_flags_mf", 3, 1, mask=1),
            F("ip_id", 4, 4),
        ),
    ),
    Header(
        "tcp",
        w.W_L4,
        (
            F("src_port", 0, 2),
            F("dst_port", 2, 2),
            F("tcp_seq", 4, 4),
            F("tcp_ack", 8, 4),
            F("tcp_flags", 12, 2, mask=0x0FFF),
            F("tcp_window", 14, 2),
        ),
        when=((w.W_IP_PROTO, lt.IPPROTO_TCP),),
    ),
    Header("tcp_mss", w.W_OPT_MSS, (F("tcp_opt_mss", 0, 2),)),
    Header("tcp_wscale", w.W_OPT_WS, (F("tcp_opt_wscale", 0, 1),)),
    Header("tcp_timestamps", w.W_OPT_TS, (F("tcp_opt_ts_val", 0, 4), F("tcp_opt_ts_ecr", 4, 4))),
    Header(
        "udp",
        w.W_L4,
        (F("src_port", 0, 2), F("dst_port", 2, 2), F("udp_len", 4, 2)),
        when=((w.W_IP_PROTO, lt.IPPROTO_UDP),),
    ),
    Header(
        "icmp",
        w.W_L4,
        (F("icmp_type", 0, 1), F("icmp_code", 1, 1)),
        when=((w.W_IP_PROTO, lt.IPPROTO_ICMP),),
    ),
    Header(
        "icmpv6",
        w.W_L4,
        (F("icmp_type", 0, 1), F("icmp_code", 1, 1)),
        when=((w.W_IP_PROTO, lt.IPPROTO_ICMPV6),),
    ),
    Header("radiotap_tsft", w.W_RT_TSFT, (F("rt_tsft", 0, 8, little=True),)),
    Header("radiotap_flags", w.W_RT_FLAGS, (F("rt_flags", 0, 1),)),
    Header("radiotap_rate", w.W_RT_RATE, (F("rt_rate_mbps", 0, 1, scale=0.5),)),
    Header(
        "radiotap_channel",
        w.W_RT_CHAN,
        (F("rt_channel_freq", 0, 2, little=True), F("rt_channel_flags", 2, 2, little=True)),
    ),
    Header("radiotap_signal", w.W_RT_SIG, (F("rt_dbm_antsignal", 0, 1, signed=True),)),
    Header("radiotap_noise", w.W_RT_NOISE, (F("rt_dbm_antnoise", 0, 1, signed=True),)),
    Header(
        "radiotap_mcs",
        w.W_RT_MCS,
        (
            F("rt_mcs_index", 2, 1, valid_offset=0, valid_bits=0x02),
            F("rt_mcs_bw", 1, 1, mask=0x03, valid_offset=0, valid_bits=0x01),
        ),
    ),
    Header(
        "wlan",
        w.W_WLAN,
        (
            F("wlan_fc_type", 0, 1, shift=2, mask=0x03),
            F("wlan_fc_subtype", 0, 1, shift=4, mask=0x0F),
            F("wlan_to_ds", 1, 1, mask=1),
            F("wlan_from_ds", 1, 1, shift=1, mask=1),
            F("wlan_retry", 1, 1, shift=3, mask=1),
            F("wlan_protected", 1, 1, shift=6, mask=1),
            F("wlan_duration", 2, 2, little=True),
        ),
    ),
    Header("wlan_seq", w.W_WLAN_SEQ, (F("wlan_seq", 0, 2, little=True, shift=4), F("wlan_frag", 0, 1, mask=0x0F))),
    Header("wlan_qos", w.W_WLAN_QOS, (F("wlan_qos_tid", 0, 1, mask=0x0F),)),
)

# ICMP messages that carry identifier + sequence (echo, timestamp, information; ICMPv6 echo).
ICMP_ECHO_TYPES = (0, 8, 13, 14, 15, 16)
ICMPV6_ECHO_TYPES = (128, 129)

# MAC-address text columns: (column, walk anchor, byte offset from the anchor, minimum wlan address count).
MAC_COLUMNS: tuple[tuple[str, int, int, int], ...] = (
    ("eth_src", w.W_SRC_MAC, 0, 0),
    ("eth_dst", w.W_DST_MAC, 0, 0),
    ("wlan_addr1", w.W_WLAN, 4, 1),
    ("wlan_addr2", w.W_WLAN, 10, 2),
    ("wlan_addr3", w.W_WLAN, 16, 3),
    ("wlan_addr4", w.W_WLAN, 24, 4),
)

# IP address text columns: (column, offset in IPv4 header, offset in IPv6 header).
IP_ADDRESS_COLUMNS: tuple[tuple[str, int, int], ...] = (("ip_src", 12, 8), ("ip_dst", 16, 24))
