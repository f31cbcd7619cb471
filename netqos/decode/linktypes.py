"""Link types and next-protocol dispatch, as data.

The walk kernel cannot call Python dicts, so each dict here is compiled into a small lookup array
(`L2_DISPATCH`) whose values are the kernel's layer codes. Adding a link type = one dict entry + a branch
for a genuinely new header shape in walk.py.
"""

from __future__ import annotations

import numpy as np

# LINKTYPE_* numbers (https://www.tcpdump.org/linktypes.html).
LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW_OPENBSD = 12  # DLT_RAW on most BSDs, written as 12 by some capture tools
LINKTYPE_RAW_BSDOS = 14
LINKTYPE_RAW = 101
LINKTYPE_IEEE802_11 = 105
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IEEE802_11_RADIOTAP = 127
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276

# Layer codes used by the walk kernel.
L2_UNSUPPORTED = 0
L2_ETHERNET = 1
L2_RAW_IP = 2  # version nibble decides
L2_RAW_IPV4 = 3
L2_RAW_IPV6 = 4
L2_NULL = 5  # 4-byte AF in the capturing host's byte order
L2_LOOP = 6  # 4-byte AF in network byte order
L2_SLL = 7
L2_SLL2 = 8
L2_WLAN = 9
L2_RADIOTAP = 10

LINKTYPE_TO_L2: dict[int, int] = {
    LINKTYPE_NULL: L2_NULL,
    LINKTYPE_ETHERNET: L2_ETHERNET,
    LINKTYPE_RAW_OPENBSD: L2_RAW_IP,
    LINKTYPE_RAW_BSDOS: L2_RAW_IP,
    LINKTYPE_RAW: L2_RAW_IP,
    LINKTYPE_IEEE802_11: L2_WLAN,
    LINKTYPE_LOOP: L2_LOOP,
    LINKTYPE_LINUX_SLL: L2_SLL,
    LINKTYPE_IEEE802_11_RADIOTAP: L2_RADIOTAP,
    LINKTYPE_IPV4: L2_RAW_IPV4,
    LINKTYPE_IPV6: L2_RAW_IPV6,
    LINKTYPE_LINUX_SLL2: L2_SLL2,
}

LINKTYPE_NAMES: dict[int, str] = {
    LINKTYPE_NULL: "null",
    LINKTYPE_ETHERNET: "ethernet",
    LINKTYPE_RAW_OPENBSD: "raw",
    LINKTYPE_RAW_BSDOS: "raw",
    LINKTYPE_RAW: "raw",
    LINKTYPE_IEEE802_11: "ieee802_11",
    LINKTYPE_LOOP: "loop",
    LINKTYPE_LINUX_SLL: "linux_sll",
    LINKTYPE_IEEE802_11_RADIOTAP: "ieee802_11_radiotap",
    LINKTYPE_IPV4: "ipv4",
    LINKTYPE_IPV6: "ipv6",
    LINKTYPE_LINUX_SLL2: "linux_sll2",
}

# pcap's link-type field carries FCS information in its upper bits; libpcap masks it like this.
LINKTYPE_MASK = 0x03FFFFFF

_MAX_DISPATCHED = 1 << 10


def _build_l2_dispatch() -> np.ndarray:
    table = np.full(_MAX_DISPATCHED, L2_UNSUPPORTED, dtype=np.int8)
    for linktype, code in LINKTYPE_TO_L2.items():
        table[linktype] = code
    return table


L2_DISPATCH = _build_l2_dispatch()


def l2_codes(link_types: np.ndarray) -> np.ndarray:
    """Per-record layer-2 decoder code for an array of link types (unknown -> L2_UNSUPPORTED)."""
    lt = link_types.astype(np.int64)
    inside = (lt >= 0) & (lt < _MAX_DISPATCHED)
    out = np.zeros(lt.shape[0], dtype=np.int8)
    out[inside] = L2_DISPATCH[lt[inside]]
    return out


# EtherTypes the walk kernel follows (the rest stop at layer 2 with status ok).
ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_IPV6 = 0x86DD
ETHERTYPE_VLAN = 0x8100
ETHERTYPE_QINQ = 0x88A8
ETHERTYPE_QINQ_OLD = 0x9100
ETHERTYPE_PPPOE_SESSION = 0x8864

# BSD/Linux address-family values for IPv6 in NULL/LOOP headers (they differ by OS).
AF_INET = 2
AF_INET6_VALUES = (10, 24, 28, 30)

# IP protocol numbers.
IPPROTO_HOPOPTS = 0
IPPROTO_ICMP = 1
IPPROTO_TCP = 6
IPPROTO_UDP = 17
IPPROTO_ROUTING = 43
IPPROTO_FRAGMENT = 44
IPPROTO_ESP = 50
IPPROTO_AH = 51
IPPROTO_ICMPV6 = 58
IPPROTO_NONE = 59
IPPROTO_DSTOPTS = 60
IPPROTO_MH = 135

IP_PROTO_NAMES: dict[int, str] = {
    IPPROTO_ICMP: "icmp",
    IPPROTO_TCP: "tcp",
    IPPROTO_UDP: "udp",
    IPPROTO_ICMPV6: "icmpv6",
    IPPROTO_ESP: "esp",
    IPPROTO_AH: "ah",
    47: "gre",
    132: "sctp",
    2: "igmp",
    89: "ospf",
}

# IPv6 extension headers, in the order codes used by `ipv6_ext_headers` (code -> text).
IPV6_EXT_CODES: dict[int, tuple[int, str]] = {
    IPPROTO_HOPOPTS: (1, "hop"),
    IPPROTO_ROUTING: (2, "routing"),
    IPPROTO_FRAGMENT: (3, "frag"),
    IPPROTO_DSTOPTS: (4, "dest"),
    IPPROTO_AH: (5, "ah"),
    IPPROTO_MH: (6, "mobility"),
}
IPV6_EXT_NAMES: dict[int, str] = {code: name for code, name in IPV6_EXT_CODES.values()}


def _build_ext_table() -> np.ndarray:
    table = np.zeros(256, dtype=np.int8)
    for proto, (code, _) in IPV6_EXT_CODES.items():
        table[proto] = code
    return table


IPV6_EXT_TABLE = _build_ext_table()
