"""featurize(): decoded packets -> per-packet features, flows and QoS windows, in one vectorised pass.

The same function serves `netqos flows`, the benchmarks and the Spark jobs (which call it per group of rows).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from netqos.analysis.tcp import analyze
from netqos.decode.schema import SOURCE_FILE_COLUMN
from netqos.features.config import FeatureConfig
from netqos.features.packet_features import packet_features
from netqos.features.plugins import FeaturePlugin, FlowContext, append_columns, load_plugins
from netqos.features.windows import qos_windows
from netqos.flows.build import FlowAssignment, assign_flows, flows_table

_FRAME_REFS = ("tcp_dup_ack_frame", "tcp_acks_frame")


@dataclass(frozen=True)
class Features:
    packets: pa.Table  # PACKET_FEATURES_SCHEMA, row-aligned with the input (+ source_file when the input has it)
    flows: pa.Table  # FLOW_SCHEMA (+ plugin columns, + source_file)
    windows: pa.Table  # WINDOW_SCHEMA (+ plugin columns)


def _analysis(packets: pa.Table, cfg: FeatureConfig, assignment: FlowAssignment) -> pa.Table:
    """TCP analysis per file; when flows are stitched across files, per flow (rows in capture order)."""
    stitched = not cfg.flow.per_file and SOURCE_FILE_COLUMN in packets.column_names
    # The flow keys' address codes (IP text for IP rows) serve the analysis, which only looks at IP rows.
    codes = (assignment.keys.src_code, assignment.keys.dst_code)
    if not stitched:
        return analyze(
            packets, vlan_aware=cfg.flow.vlan_aware, bytes_in_flight=cfg.bytes_in_flight, address_codes=codes
        )
    # Row position as frame number (frame numbers repeat across files), one analysis per flow: the result of a
    # flow then depends on its own packets only, so recomputing a time range reproduces it exactly.
    n = packets.num_rows
    frame = packets.column("frame_no")
    seq = packets.drop_columns([SOURCE_FILE_COLUMN]).set_column(
        packets.column_names.index("frame_no"), "frame_no", pa.array(np.arange(n, dtype=np.int64))
    )
    out = analyze(
        seq, vlan_aware=cfg.flow.vlan_aware, bytes_in_flight=cfg.bytes_in_flight,
        segments=assignment.row_flow_index(n), address_codes=codes,
    )  # fmt: skip
    out = out.set_column(0, "frame_no", frame)
    for name in _FRAME_REFS:
        ref = out.column(name)
        idx = ref.combine_chunks() if isinstance(ref, pa.ChunkedArray) else ref
        out = out.set_column(out.column_names.index(name), name, frame.take(idx))
    return out


def featurize(packets: pa.Table, cfg: FeatureConfig | None = None) -> Features:
    """Per-packet features, flows and QoS windows of decoded packets (netqos.decode schema).

    With cfg.flow.per_file (default) each `source_file` is its own capture. With per_file=False the rows are one
    sensor's rotated files in capture order (file order, then frame order) and flows and TCP streams continue
    across files; TCP analysis then restarts at each flow (see docs/tables.md).
    """
    cfg = cfg or FeatureConfig()
    plugins = load_plugins(cfg.plugins, cfg)
    assignment = assign_flows(packets, cfg.flow)
    analysis = _analysis(packets, cfg, assignment)
    flows = flows_table(packets, assignment, analysis)
    per_packet, class_codes = packet_features(packets, assignment, analysis, cfg.service_ports)
    windows = qos_windows(
        _joined(packets, per_packet), cfg.window_seconds, sensor_default=cfg.flow.sensor_id, plugins=plugins,
        flow_order=assignment.order, class_codes=class_codes,
    )  # fmt: skip
    flows = _plugin_flow_columns(flows, plugins, FlowContext(packets, per_packet, assignment))
    if SOURCE_FILE_COLUMN in flows.column_names:  # keep source_file last, after plugin columns
        i = flows.column_names.index(SOURCE_FILE_COLUMN)
        flows = flows.remove_column(i).append_column(flows.schema.field(i), flows.column(i))
    if SOURCE_FILE_COLUMN in packets.column_names:
        field = packets.schema.field(SOURCE_FILE_COLUMN)
        per_packet = per_packet.append_column(field, packets.column(SOURCE_FILE_COLUMN))
    return Features(per_packet, flows, windows)


def _joined(packets: pa.Table, per_packet: pa.Table) -> pa.Table:
    """Packet columns + per-packet features side by side (zero-copy)."""
    table = packets
    for name in per_packet.column_names:
        if name not in table.column_names:
            table = table.append_column(per_packet.schema.field(name), per_packet.column(name))
    return table


def _plugin_flow_columns(flows: pa.Table, plugins: list[FeaturePlugin], ctx: FlowContext) -> pa.Table:
    for plugin in plugins:
        if plugin.flow_columns:
            flows = append_columns(flows, plugin.flow_columns, plugin.on_flows(ctx), "flow")
    return flows
