"""Crafted pandas frames with a table's full column set (unit tests validate with GX's pandas engine).

A helper module, not a conftest: `from quality_frames import make_frame`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from netqos.quality.suites import SPECS

SHA_A = "a" * 64
SHA_B = "b" * 64

# One valid row per table; tests copy and break it.
VALID: dict[str, dict[str, Any]] = {
    "packets": {
        "frame_no": 1,
        "ts_ns": 1_700_000_000_000_000_000,
        "cap_len": 60,
        "wire_len": 60,
        "ip_version": 4,
        "ip_ttl": 64,
        "src_port": 1234,
        "dst_port": 80,
        "tcp_window": 65535,
        "source_file": "/x.pcap",
        "sensor_id": "s1",
        "file_sha256": SHA_A,
    },
    "tcp_analysis": {
        "file_sha256": SHA_A,
        "frame_no": 1,
        "flow_dir": 0,
        "tcp_window_size": 1000,
        "tcp_ack_rtt": 0.01,
        "ts_ns": 1_700_000_000_000_000_000,
        "sensor_id": "s1",
    },
    "flows": {
        "flow_id": 1,
        "sensor_id": "s1",
        "flow_kind": "ip",
        "src_port": 1234,
        "dst_port": 80,
        "end_reason": "fin",
        "packets": 3,
        "bytes": 180,
        "first_ts_ns": 1_000,
        "last_ts_ns": 2_000,
        "duration_s": 1e-6,
        "first_file_sha256": SHA_A,
    },
    "qos_windows": {
        "sensor_id": "s1",
        "window_s": 10,
        "window_start": pd.Timestamp("2024-01-01T00:00:00Z"),
        "window_start_ns": 1_704_067_200_000_000_000,
        "dimension": "all",
        "class": "all",
        "packets": 5,
        "bytes": 300,
        "tcp_retransmission_rate": 0.2,
    },
}


def make_frame(table: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows over VALID[table], every other column of the table present and null, in the table's column order."""
    full = [{c: {**VALID[table], **r}.get(c) for c in SPECS[table].column_names} for r in rows]
    return pd.DataFrame(full, columns=SPECS[table].column_names)
