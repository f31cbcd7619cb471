"""The hand-written part of the suites: value rules per column, as data. suites.py adds the schema part from the
TableSpecs and writes expectations/<table>.json; a rule on a column a table does not have is an error."""

from __future__ import annotations

from typing import Any

# Rule = (expectation type, kwargs). Ranges are inclusive; GX skips nulls for column-map expectations.
Rule = tuple[str, dict[str, Any]]

_PORTS = {"min_value": 0, "max_value": 65535}
_NON_NEGATIVE = {"min_value": 0}
_SHARE = {"min_value": 0, "max_value": 1}


def _between(column: str, bounds: dict[str, Any]) -> Rule:
    return ("expect_column_values_to_be_between", {"column": column, **bounds})


def _a_ge_b(a: str, b: str) -> Rule:
    return (
        "expect_column_pair_values_a_to_be_greater_than_b",
        {"column_A": a, "column_B": b, "or_equal": True, "ignore_row_if": "either_value_is_missing"},
    )


def _in_set(column: str, values: Any) -> Rule:
    return ("expect_column_values_to_be_in_set", {"column": column, "value_set": values})


def _non_negative(*columns: str) -> list[Rule]:
    return [_between(c, _NON_NEGATIVE) for c in columns]


_DIRS = ("", "src2dst_", "dst2src_")

VALUE_RULES: dict[str, list[Rule]] = {
    "packets": [
        _between("src_port", _PORTS),
        _between("dst_port", _PORTS),
        _between("ip_ttl", {"min_value": 0, "max_value": 255}),
        _between("ip_dscp", {"min_value": 0, "max_value": 63}),
        _between("ip_ecn", {"min_value": 0, "max_value": 3}),
        _between("vlan_id", {"min_value": 0, "max_value": 4095}),
        _between("tcp_window", {"min_value": 0, "max_value": 65535}),
        _in_set("ip_version", [4, 6]),
        *_non_negative("frame_no", "cap_len", "wire_len", "ip_len", "ip_hdr_len", "ip_options_len", "tcp_hdr_len"),
        *_non_negative("udp_len", "l4_payload_len", "ip_frag_offset"),
        _a_ge_b("wire_len", "cap_len"),
    ],
    "tcp_analysis": [
        _in_set("flow_dir", [0, 1]),
        *_non_negative("frame_no", "tcp_window_size", "tcp_ack_rtt", "tcp_initial_rtt", "udp_jitter_s"),
        *_non_negative("tcp_dup_ack_num"),
    ],
    "flows": [
        _between("src_port", _PORTS),
        _between("dst_port", _PORTS),
        _in_set("flow_kind", ["ip", "l2"]),
        _in_set("end_reason", ["idle", "active", "fin", "rst", "eof"]),
        _between("packets", {"min_value": 1}),
        *_non_negative("bytes", "tcp_rtt_samples", "tcp_rtt_min_s", "tcp_rtt_p95_s", "wlan_frames"),
        *[r for d in _DIRS for r in _non_negative(f"{d}duration_s", f"{d}ps_min", f"{d}piat_min_s")],
        *[_a_ge_b(f"{d}last_ts_ns", f"{d}first_ts_ns") for d in _DIRS],
        _between("wlan_retry_rate", _SHARE),
    ],
    "qos_windows": [
        # The configured window lengths (settings.features.window_seconds) are a runtime parameter.
        _in_set("window_s", {"$PARAMETER": "window_seconds"}),
        _in_set("dimension", ["all", "service", "dscp"]),
        *_non_negative("packets", "bytes", "bps", "pps", "active_flows", "new_flows", "tcp_segments"),
        *_non_negative("tcp_retransmissions", "rtt_samples", "rtt_p50_s", "rtt_p95_s", "jitter_p95_s"),
        *[
            _between(c, _SHARE)
            for c in (
                "tcp_retransmission_rate",
                "tcp_out_of_order_rate",
                "icmp_unreachable_rate",
                "icmp_time_exceeded_rate",
                "wlan_retry_rate",
            )
        ],
    ],
}

# Columns that must never be null besides the TableSpec keys.
EXTRA_NOT_NULL: dict[str, tuple[str, ...]] = {
    "packets": ("sensor_id", "source_file"),
    "tcp_analysis": ("sensor_id", "ts_ns"),
    "flows": ("sensor_id", "first_ts_ns", "last_ts_ns", "first_file_sha256"),
    "qos_windows": ("window_start",),
}
