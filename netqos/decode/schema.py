"""The `packets` schema: one row per captured frame. Versioned; docs/schema/packets.md describes every column.

Integer columns are nullable: null means "this layer is absent or was not decoded", never 0.
"""

from __future__ import annotations

from enum import IntEnum

import pyarrow as pa

SCHEMA_VERSION = 1


class DecodeStatus(IntEnum):
    """Why a row stopped decoding where it did. `OK` = every layer present was decoded completely.

    TRUNC_* = the captured bytes end inside that layer's header (snaplen cut or truncated record).
    BAD_*   = the header is present but invalid (bad version, length field smaller than the header...).
    """

    OK = 0
    UNSUPPORTED_LINKTYPE = 1
    TRUNC_LINK = 2
    BAD_LINK = 3
    TRUNC_RADIOTAP = 4
    BAD_RADIOTAP = 5
    TRUNC_WLAN = 6
    TRUNC_LLC = 7
    TRUNC_VLAN = 8
    TRUNC_IPV4 = 9
    BAD_IPV4 = 10
    TRUNC_IPV6 = 11
    BAD_IPV6 = 12
    TRUNC_IPV6_EXT = 13
    TRUNC_TCP = 14
    BAD_TCP = 15
    TRUNC_TCP_OPTIONS = 16
    BAD_TCP_OPTIONS = 17
    TRUNC_UDP = 18
    BAD_UDP = 19
    TRUNC_ICMP = 20
    TRUNC_ICMPV6 = 21
    TRUNCATED_RECORD = 22  # the file ended inside this record; cap_len counts only the bytes present
    OVERSIZED_RECORD = 23  # reserved: a caplen over the maximum stops the file (summary.error), as libpcap does
    BAD_IP_VERSION = 24


# `decode_status` text, e.g. "ok", "truncated:tcp", "malformed:ipv4".
STATUS_TEXT: dict[DecodeStatus, str] = {
    DecodeStatus.OK: "ok",
    DecodeStatus.UNSUPPORTED_LINKTYPE: "unsupported:linktype",
    DecodeStatus.TRUNC_LINK: "truncated:link",
    DecodeStatus.BAD_LINK: "malformed:link",
    DecodeStatus.TRUNC_RADIOTAP: "truncated:radiotap",
    DecodeStatus.BAD_RADIOTAP: "malformed:radiotap",
    DecodeStatus.TRUNC_WLAN: "truncated:wlan",
    DecodeStatus.TRUNC_LLC: "truncated:llc",
    DecodeStatus.TRUNC_VLAN: "truncated:vlan",
    DecodeStatus.TRUNC_IPV4: "truncated:ipv4",
    DecodeStatus.BAD_IPV4: "malformed:ipv4",
    DecodeStatus.TRUNC_IPV6: "truncated:ipv6",
    DecodeStatus.BAD_IPV6: "malformed:ipv6",
    DecodeStatus.TRUNC_IPV6_EXT: "truncated:ipv6_ext",
    DecodeStatus.TRUNC_TCP: "truncated:tcp",
    DecodeStatus.BAD_TCP: "malformed:tcp",
    DecodeStatus.TRUNC_TCP_OPTIONS: "truncated:tcp_options",
    DecodeStatus.BAD_TCP_OPTIONS: "malformed:tcp_options",
    DecodeStatus.TRUNC_UDP: "truncated:udp",
    DecodeStatus.BAD_UDP: "malformed:udp",
    DecodeStatus.TRUNC_ICMP: "truncated:icmp",
    DecodeStatus.TRUNC_ICMPV6: "truncated:icmpv6",
    DecodeStatus.TRUNCATED_RECORD: "truncated:record",
    DecodeStatus.OVERSIZED_RECORD: "malformed:record_too_large",
    DecodeStatus.BAD_IP_VERSION: "malformed:ip_version",
}

# (name, type, description). Order is the column order of every batch the decoder yields.
COLUMNS: list[tuple[str, pa.DataType, str]] = [
    ("frame_no", pa.int64(), "1-based frame number in the file (as Wireshark's frame.number)"),
    ("ts_ns", pa.int64(), "capture timestamp, nanoseconds since the Unix epoch (UTC)"),
    ("interface_id", pa.int32(), "pcapng interface id; 0 for classic pcap"),
    ("link_type", pa.int32(), "LINKTYPE_* of the frame's interface"),
    ("cap_len", pa.int32(), "captured bytes of the frame"),
    ("wire_len", pa.int32(), "original length on the wire"),
    ("eth_src", pa.string(), "source MAC, lower-case colon-separated (Ethernet, SLL/SLL2 with 6-byte address)"),
    ("eth_dst", pa.string(), "destination MAC (Ethernet only)"),
    ("eth_type", pa.int32(), "EtherType/protocol of the payload after any VLAN tags (LLC/SNAP type for 802.11)"),
    ("vlan_id", pa.int32(), "outer 802.1Q/802.1ad VLAN id"),
    ("vlan_inner_id", pa.int32(), "inner VLAN id of a QinQ frame"),
    ("vlan_pcp", pa.int8(), "priority code point of the outer tag"),
    ("ip_version", pa.int8(), "4 or 6"),
    ("ip_src", pa.string(), "source address, text form (IPv6 per RFC 5952)"),
    ("ip_dst", pa.string(), "destination address, text form"),
    ("ip_proto", pa.int16(), "IPv4 protocol; for IPv6 the upper-layer protocol after extension headers"),
    ("ip_ttl", pa.int16(), "IPv4 TTL / IPv6 hop limit"),
    ("ip_len", pa.int32(), "IPv4 total length; IPv6 payload length + 40"),
    ("ip_hdr_len", pa.int16(), "IPv4 header length incl. options; IPv6 40 + extension headers"),
    ("ip_dscp", pa.int8(), "DSCP (upper 6 bits of TOS / traffic class)"),
    ("ip_ecn", pa.int8(), "ECN (lower 2 bits of TOS / traffic class)"),
    ("ip_id", pa.int64(), "IPv4 identification; IPv6 fragment-header identification"),
    ("ip_flags_df", pa.bool_(), "IPv4 don't-fragment"),
    ("ip_flags_mf", pa.bool_(), "more fragments (IPv4 flag or IPv6 fragment header M bit)"),
    ("ip_frag_offset", pa.int32(), "fragment offset in bytes"),
    ("ip_options_len", pa.int16(), "IPv4 option bytes"),
    ("ipv6_flow_label", pa.int32(), "IPv6 flow label"),
    ("ipv6_ext_headers", pa.string(), "IPv6 extension header chain, e.g. 'hop,frag' (null when none)"),
    ("src_port", pa.int32(), "TCP or UDP source port"),
    ("dst_port", pa.int32(), "TCP or UDP destination port"),
    ("tcp_flags", pa.int16(), "TCP flag bits as tshark's tcp.flags: FIN=0x01 .. CWR=0x80, AE/NS=0x100, reserved 0xE00"),
    ("tcp_seq", pa.int64(), "TCP sequence number (raw, absolute)"),
    ("tcp_ack", pa.int64(), "TCP acknowledgement number (raw, absolute)"),
    ("tcp_window", pa.int32(), "TCP window field (unscaled)"),
    ("tcp_hdr_len", pa.int16(), "TCP header length incl. options"),
    ("tcp_opt_mss", pa.int32(), "MSS option value"),
    ("tcp_opt_wscale", pa.int16(), "window-scale option shift count"),
    ("tcp_opt_sack_perm", pa.bool_(), "SACK-permitted option present"),
    ("tcp_opt_sack_blocks", pa.list_(pa.int64()), "SACK blocks flattened as [left1, right1, left2, right2, ...]"),
    ("tcp_opt_ts_val", pa.int64(), "timestamp option TSval"),
    ("tcp_opt_ts_ecr", pa.int64(), "timestamp option TSecr"),
    ("udp_len", pa.int32(), "UDP length field"),
    ("l4_payload_len", pa.int32(), "TCP/UDP payload bytes per the IP length (not the captured bytes)"),
    ("icmp_type", pa.int16(), "ICMP / ICMPv6 type"),
    ("icmp_code", pa.int16(), "ICMP / ICMPv6 code"),
    ("icmp_id", pa.int32(), "identifier of echo request/reply"),
    ("icmp_seq", pa.int32(), "sequence number of echo request/reply"),
    ("rt_tsft", pa.int64(), "radiotap TSFT, microseconds"),
    ("rt_flags", pa.int16(), "radiotap flags"),
    ("rt_rate_mbps", pa.float32(), "radiotap legacy rate, Mb/s"),
    ("rt_channel_freq", pa.int32(), "radiotap channel frequency, MHz"),
    ("rt_channel_flags", pa.int32(), "radiotap channel flags"),
    ("rt_dbm_antsignal", pa.int16(), "radiotap antenna signal, dBm"),
    ("rt_dbm_antnoise", pa.int16(), "radiotap antenna noise, dBm"),
    ("rt_mcs_index", pa.int16(), "radiotap 802.11n MCS index"),
    ("rt_mcs_bw", pa.int8(), "radiotap MCS bandwidth code (0=20, 1=40, 2=20L, 3=20U)"),
    ("wlan_fc_type", pa.int8(), "802.11 frame type (0 mgmt, 1 ctrl, 2 data)"),
    ("wlan_fc_subtype", pa.int8(), "802.11 frame subtype"),
    ("wlan_to_ds", pa.bool_(), "To DS flag"),
    ("wlan_from_ds", pa.bool_(), "From DS flag"),
    ("wlan_retry", pa.bool_(), "Retry flag"),
    ("wlan_protected", pa.bool_(), "Protected frame flag"),
    ("wlan_duration", pa.int32(), "duration/ID field"),
    ("wlan_addr1", pa.string(), "address 1 (receiver)"),
    ("wlan_addr2", pa.string(), "address 2 (transmitter)"),
    ("wlan_addr3", pa.string(), "address 3"),
    ("wlan_addr4", pa.string(), "address 4 (WDS frames only)"),
    ("wlan_bssid", pa.string(), "BSSID derived from the DS bits"),
    ("wlan_seq", pa.int32(), "sequence number"),
    ("wlan_frag", pa.int8(), "fragment number"),
    ("wlan_qos_tid", pa.int8(), "QoS TID (QoS data frames)"),
    ("decode_status", pa.string(), "'ok' or '<truncated|malformed|unsupported>:<layer>' (see DecodeStatus)"),
]

PACKET_SCHEMA = pa.schema(
    [pa.field(name, dtype, nullable=True, metadata={"doc": doc}) for name, dtype, doc in COLUMNS],
    metadata={"netqos.schema": "packets", "netqos.schema_version": str(SCHEMA_VERSION)},
)

COLUMN_NAMES: list[str] = [name for name, _, _ in COLUMNS]

# Added by the CLI / Spark source when rows from several files share one table.
SOURCE_FILE_COLUMN = "source_file"
SOURCE_FILE_FIELD = pa.field(SOURCE_FILE_COLUMN, pa.string(), metadata={"doc": "capture file"})
