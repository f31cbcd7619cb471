"""Render docs/schema/qos_windows.md and docs/schema/tcp_analysis.md from the schemas.

python -m netqos.features.schema_doc qos_windows > docs/schema/qos_windows.md
python -m netqos.features.schema_doc tcp_analysis > docs/schema/tcp_analysis.md
"""

from __future__ import annotations

import sys

from netqos.features.schema import PACKET_FEATURE_COLUMNS, SCHEMA_VERSION, WINDOW_COLUMNS

_HEADER = {
    "qos_windows": [
        f"# `qos_windows` schema, version {SCHEMA_VERSION}",
        "",
        "The model features: per sensor, window (10 s and 60 s by default, aligned to the epoch) and class, from",
        "`netqos.features.qos_windows()` (the Spark job `jobs/spark/qos_windows.py`, `netqos flows --windows`).",
        "Three dimensions per window: `all` (class `all`), `service` (the flow's `service_class`: well-known port of",
        "the responder, else of the initiator; `other`, `icmp`, `l2`) and `dscp` (the packet's DSCP name). A window",
        "without packets has no row; windows at the edges of a capture cover only part of their length but are",
        "divided by the full `window_s` (bps, pps). Rates are null when their denominator is 0.",
        "Delta table key: (`sensor_id`, `window_s`, `window_start_ns`, `dimension`, `class`); the table adds",
        "`window_date` (partition column with `sensor_id`). Generated from `netqos/features/schema.py`.",
    ],
    "tcp_analysis": [
        f"# `tcp_analysis` schema, version {SCHEMA_VERSION}",
        "",
        "One row per packet that has a timestamp: the packet's flow, classes, UDP jitter and the Wireshark-style",
        "TCP analysis (docs/tcp-analysis.md). `netqos.features.featurize(...).packets`; the Delta table",
        "`tcp_analysis` adds `file_sha256` (with `frame_no` the key back to `packets`), `ts_ns`, `sensor_id` and",
        "`capture_date` (partition columns: `capture_date`, `sensor_id`). In the Delta table the analysis runs per",
        "flow over the sensor's files in capture order; frame references (`tcp_acks_frame`,",
        "`tcp_dup_ack_frame`) are frame numbers that may point into the sensor's previous file.",
        "Generated from `netqos/features/schema.py`.",
    ],
}


def render_markdown(which: str) -> str:
    columns = WINDOW_COLUMNS if which == "qos_windows" else PACKET_FEATURE_COLUMNS
    lines = [*_HEADER[which], "", "| column | type | meaning |", "|---|---|---|"]
    lines += [f"| `{name}` | {dtype} | {doc} |" for name, dtype, doc in columns]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render_markdown(sys.argv[1] if len(sys.argv) > 1 else "qos_windows"), end="")
