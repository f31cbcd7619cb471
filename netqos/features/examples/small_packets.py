"""Example plugin: how much of a flow / window is small packets (ACK-only, keep-alives, VoIP, scans).

Enable with FeatureConfig(plugins=("small_packets",)) or `[features] plugins = ["small_packets"]`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa

from netqos.analysis.columns import column, ints
from netqos.features.plugins import FeaturePlugin, FlowContext
from netqos.features.windows import WindowGroups

SMALL_BYTES = 128  # frame bytes on the wire


class SmallPackets(FeaturePlugin):
    name = "small_packets"
    flow_columns = (
        (
            "small_packets",
            pa.int64(),
            f"packets of the flow with wire_len < {SMALL_BYTES} bytes (plugin small_packets)",
        ),
        ("small_packet_share", pa.float64(), "small_packets / packets (plugin small_packets)"),
    )
    window_columns = (
        ("small_packet_share", pa.float64(), f"share of packets with wire_len < {SMALL_BYTES} (plugin small_packets)"),
    )

    def on_flows(self, ctx: FlowContext) -> Mapping[str, np.ndarray]:
        small = (ctx.values("wire_len") < SMALL_BYTES).astype(np.float64)
        count = ctx.flow_sum(small)
        total = ctx.flow_sum(np.ones_like(small))
        return {"small_packets": count.astype(np.int64), "small_packet_share": count / np.maximum(total, 1)}

    def on_windows(self, groups: WindowGroups) -> Mapping[str, np.ndarray]:
        wire = ints(column(groups.table, "wire_len"), groups.table.num_rows, 0)  # null -> 0, as in on_flows
        small = groups.count(wire < SMALL_BYTES)
        total = groups.count(np.ones(groups.table.num_rows, np.bool_))
        return {"small_packet_share": small / np.maximum(total, 1)}
