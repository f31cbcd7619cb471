"""The `flows` schema: one row per bidirectional flow. docs/flows.md describes every column."""

from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = 1

# Direction scopes: "" = both directions, src2dst = initiator -> responder, dst2src = responder -> initiator.
SCOPES: list[tuple[str, str]] = [
    ("", "both directions"),
    ("src2dst_", "initiator -> responder"),
    ("dst2src_", "responder -> initiator"),
]
TCP_FLAG_NAMES = ("syn", "ack", "psh", "rst", "fin", "urg", "ece", "cwr")  # order of _kernel.FLAG_BITS
ANALYSIS_COUNTERS: list[tuple[str, str]] = [
    ("retransmissions", "TCP segments flagged tcp_retransmission (any kind) by netqos.analysis.tcp"),
    ("out_of_order", "TCP segments flagged tcp_out_of_order"),
    ("dup_acks", "TCP duplicate ACKs (tcp_dup_ack)"),
    ("zero_window", "TCP zero-window advertisements (tcp_zero_window)"),
]

_KEY: list[tuple[str, pa.DataType, str]] = [
    ("flow_id", pa.int64(), "stable id: 64-bit hash of sensor_id, the canonical key and first_ts_ns (same on rerun)"),
    ("sensor_id", pa.string(), "sensor that captured the packets (input column sensor_id, else FlowConfig.sensor_id)"),
    ("flow_kind", pa.string(), "'ip' (keyed on IP addresses) or 'l2' (non-IP frame, keyed on MAC addresses)"),
    ("vlan_id", pa.int32(), "outer VLAN id (null = untagged, or FlowConfig.vlan_aware=False)"),
    ("vlan_inner_id", pa.int32(), "inner VLAN id of QinQ traffic"),
    ("ip_version", pa.int8(), "4 or 6; null for l2 flows"),
    ("protocol", pa.int16(), "IP protocol (ip_proto: 6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6...); null for l2 flows"),
    ("eth_type", pa.int32(), "EtherType of l2 flows (null for ip flows)"),
    ("src_addr", pa.string(), "initiator address (IP text, or MAC for l2 flows)"),
    ("dst_addr", pa.string(), "responder address"),
    ("src_port", pa.int32(), "initiator TCP/UDP port (null for other protocols)"),
    ("dst_port", pa.int32(), "responder TCP/UDP port"),
    ("icmp_type", pa.int16(), "ICMP/ICMPv6 type of the first packet (null if not ICMP)"),
    ("icmp_id", pa.int32(), "ICMP echo identifier (part of the key; null if not an echo flow)"),
    ("end_reason", pa.string(), "'idle', 'active' (timeouts), 'fin' (both FINs), 'rst', or 'eof' (open at the end)"),
]


def _scope_columns(prefix: str, what: str) -> list[tuple[str, pa.DataType, str]]:
    cols: list[tuple[str, pa.DataType, str]] = [
        (f"{prefix}packets", pa.int64(), f"packets, {what}"),
        (f"{prefix}bytes", pa.int64(), f"bytes ({what}): sum of ip_len for ip flows, of wire_len for l2 flows"),
        (f"{prefix}first_ts_ns", pa.int64(), f"timestamp of the first packet ({what}), ns since the epoch"),
        (f"{prefix}last_ts_ns", pa.int64(), f"timestamp of the last packet ({what}), ns since the epoch"),
        (f"{prefix}duration_s", pa.float64(), f"last_ts - first_ts in seconds ({what})"),
        (f"{prefix}ps_min", pa.float64(), f"smallest packet size in bytes, as counted in bytes ({what})"),
        (f"{prefix}ps_mean", pa.float64(), f"mean packet size ({what})"),
        (f"{prefix}ps_stddev", pa.float64(), f"sample standard deviation (n-1) of packet size ({what}); null if < 2"),
        (f"{prefix}ps_max", pa.float64(), f"largest packet size ({what})"),
        (f"{prefix}piat_min_s", pa.float64(), f"smallest inter-arrival time in seconds ({what}); null if < 2 packets"),
        (f"{prefix}piat_mean_s", pa.float64(), f"mean inter-arrival time in seconds ({what})"),
        (f"{prefix}piat_stddev_s", pa.float64(), f"sample standard deviation of inter-arrival time ({what})"),
        (f"{prefix}piat_max_s", pa.float64(), f"largest inter-arrival time in seconds ({what})"),
    ]
    for flag in TCP_FLAG_NAMES:
        cols.append((f"{prefix}{flag}_packets", pa.int64(), f"TCP packets with {flag.upper()} set ({what})"))
    for name, doc in ANALYSIS_COUNTERS:
        cols.append((f"{prefix}tcp_{name}", pa.int64(), f"{doc} ({what}); 0 without analysis"))
    return cols


_TAIL: list[tuple[str, pa.DataType, str]] = [
    ("tcp_rtt_samples", pa.int64(), "number of tcp_ack_rtt values in the flow (0 without analysis)"),
    ("tcp_rtt_min_s", pa.float64(), "smallest tcp_ack_rtt (seconds) of the flow; null without samples"),
    ("tcp_rtt_mean_s", pa.float64(), "mean tcp_ack_rtt"),
    ("tcp_rtt_p95_s", pa.float64(), "95th percentile of tcp_ack_rtt (linear interpolation)"),
    ("tcp_rtt_max_s", pa.float64(), "largest tcp_ack_rtt"),
    (
        "src2dst_jitter_s",
        pa.float64(),
        "UDP flows: RFC 3550 interarrival jitter of initiator -> responder packets, from arrival times (see docs)",
    ),
    ("dst2src_jitter_s", pa.float64(), "UDP flows: the same for responder -> initiator packets"),
    ("wlan_frames", pa.int64(), "802.11 frames of the flow (wlan_retry known); null if none"),
    ("wlan_retry_rate", pa.float64(), "share of those frames with the Retry bit"),
    ("wlan_signal_mean_dbm", pa.float64(), "mean radiotap antenna signal (dBm) over frames that have it"),
    ("wlan_signal_min_dbm", pa.float64(), "weakest radiotap antenna signal (dBm)"),
]

COLUMNS: list[tuple[str, pa.DataType, str]] = [
    *_KEY,
    *[c for prefix, what in SCOPES for c in _scope_columns(prefix, what)],
    *_TAIL,
]

FLOW_SCHEMA = pa.schema(
    [pa.field(name, dtype, nullable=True, metadata={"doc": doc}) for name, dtype, doc in COLUMNS],
    metadata={"netqos.schema": "flows", "netqos.schema_version": str(SCHEMA_VERSION)},
)

COLUMN_NAMES: list[str] = [name for name, _, _ in COLUMNS]
