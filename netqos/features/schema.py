"""Schemas of the per-packet features (`tcp_analysis` table) and of `qos_windows`. docs/schema/ documents them."""

from __future__ import annotations

import pyarrow as pa

from netqos.analysis.tcp import COLUMNS as ANALYSIS_COLUMNS

SCHEMA_VERSION = 1

Column = tuple[str, pa.DataType, str]

PACKET_FEATURE_COLUMNS: list[Column] = [
    ("frame_no", pa.int64(), "frame number in its capture file (with the file, the key back to `packets`)"),
    ("flow_id", pa.int64(), "flow of the packet (`flows.flow_id`); null for frames in no flow (no addresses)"),
    ("flow_dir", pa.int8(), "0 = initiator -> responder, 1 = responder -> initiator"),
    ("flow_first", pa.bool_(), "first packet of its flow"),
    ("service_class", pa.string(), "service class of the flow (well-known port; 'other', 'icmp', 'l2')"),
    ("dscp_class", pa.string(), "DSCP name of this packet (be, cs1..cs7, af11..af43, ef, le, dscpN); null if not IP"),
    (
        "udp_jitter_s",
        pa.float64(),
        "UDP: RFC 3550 jitter estimate of the flow direction after this packet (s); null before its 3rd packet",
    ),
    *[c for c in ANALYSIS_COLUMNS if c[0] != "frame_no"],
]

PACKET_FEATURES_SCHEMA = pa.schema(
    [pa.field(n, t, nullable=True, metadata={"doc": d}) for n, t, d in PACKET_FEATURE_COLUMNS],
    metadata={"netqos.schema": "packet_features", "netqos.schema_version": str(SCHEMA_VERSION)},
)

_RATE = "share in [0, 1]; null when the denominator is 0"

WINDOW_COLUMNS: list[Column] = [
    ("sensor_id", pa.string(), "sensor of the packets"),
    ("window_s", pa.int32(), "window length in seconds (10 and 60 by default)"),
    ("window_start", pa.timestamp("us", tz="UTC"), "window start, aligned to the epoch (UTC)"),
    ("window_start_ns", pa.int64(), "window start in ns since the epoch"),
    ("dimension", pa.string(), "'all' (every packet), 'service' (by service_class) or 'dscp' (by dscp_class)"),
    ("class", pa.string(), "'all', or the service / DSCP class name"),
    ("packets", pa.int64(), "packets in the window"),
    ("bytes", pa.int64(), "frame bytes on the wire (wire_len) in the window"),
    ("bps", pa.float64(), "throughput: bytes * 8 / window_s"),
    ("pps", pa.float64(), "packets / window_s"),
    ("active_flows", pa.int64(), "flows with at least one packet (of this class) in the window"),
    ("new_flows", pa.int64(), "flows whose first packet is in the window"),
    ("tcp_segments", pa.int64(), "TCP segments that carry data or SYN/FIN (what can be retransmitted)"),
    ("tcp_retransmissions", pa.int64(), "segments flagged tcp_retransmission (any kind)"),
    ("tcp_retransmission_rate", pa.float64(), f"tcp_retransmissions / tcp_segments; {_RATE}"),
    ("tcp_out_of_order", pa.int64(), "segments flagged tcp_out_of_order"),
    ("tcp_out_of_order_rate", pa.float64(), f"tcp_out_of_order / tcp_segments; {_RATE}"),
    ("tcp_lost_segments", pa.int64(), "segments flagged tcp_lost_segment (a gap before them: loss upstream)"),
    ("tcp_dup_acks", pa.int64(), "duplicate ACKs"),
    ("tcp_zero_window", pa.int64(), "zero-window advertisements (receiver cannot keep up)"),
    ("tcp_resets", pa.int64(), "TCP packets with RST"),
    ("rtt_samples", pa.int64(), "tcp_ack_rtt samples in the window"),
    ("rtt_p50_s", pa.float64(), "median tcp_ack_rtt (s, exact, linear interpolation); null without samples"),
    ("rtt_p95_s", pa.float64(), "95th percentile of tcp_ack_rtt"),
    ("rtt_p99_s", pa.float64(), "99th percentile of tcp_ack_rtt"),
    ("jitter_samples", pa.int64(), "UDP packets with a udp_jitter_s value"),
    ("jitter_p95_s", pa.float64(), "95th percentile of udp_jitter_s over those packets; null without samples"),
    ("icmp_unreachable", pa.int64(), "ICMP destination unreachable (v4 type 3, v6 type 1)"),
    ("icmp_unreachable_rate", pa.float64(), f"icmp_unreachable / packets; {_RATE}"),
    ("icmp_time_exceeded", pa.int64(), "ICMP time exceeded (v4 type 11, v6 type 3): TTL expiry, routing loops"),
    ("icmp_time_exceeded_rate", pa.float64(), f"icmp_time_exceeded / packets; {_RATE}"),
    ("wlan_frames", pa.int64(), "802.11 frames (Retry bit known); 0 on wired links"),
    ("wlan_retry_rate", pa.float64(), f"802.11 frames with the Retry bit / wlan_frames; {_RATE}"),
    ("wlan_signal_mean_dbm", pa.float64(), "mean radiotap antenna signal (dBm); null without radiotap signal"),
    ("wlan_signal_min_dbm", pa.float64(), "weakest radiotap antenna signal (dBm)"),
]

WINDOW_SCHEMA = pa.schema(
    [pa.field(n, t, nullable=True, metadata={"doc": d}) for n, t, d in WINDOW_COLUMNS],
    metadata={"netqos.schema": "qos_windows", "netqos.schema_version": str(SCHEMA_VERSION)},
)
