"""Crafted packet rows for flow/feature tests: dicts in the packets schema, and a table of them."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from netqos.decode.schema import PACKET_SCHEMA

S = 1_000_000_000


def pkt(t: float, src: str = "10.0.0.1", dst: str = "10.0.0.2", sp: int | None = 1000, dp: int | None = 53,
        proto: int = 17, length: int = 100, **extra: Any) -> dict[str, Any]:  # fmt: skip
    row: dict[str, Any] = {
        "ts_ns": round(t * S), "ip_src": src, "ip_dst": dst, "ip_proto": proto, "ip_len": length,
        "ip_version": 6 if ":" in src else 4, "src_port": sp, "dst_port": dp, "wire_len": length + 14,
    }  # fmt: skip
    row.update(extra)
    return row


def table(rows: list[dict[str, Any]]) -> pa.Table:
    """The rows as a packets table, frame_no 1..n in the given order."""
    cols = {name: [r.get(name) for r in rows] for name in PACKET_SCHEMA.names}
    cols["frame_no"] = list(range(1, len(rows) + 1))
    return pa.Table.from_pydict(cols, schema=PACKET_SCHEMA)
