"""Per-packet features: the packet's flow, direction, classes, UDP jitter and TCP analysis (PACKET_FEATURES_SCHEMA)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa

from netqos.analysis.columns import column, ints, valid
from netqos.features.classes import DSCP_NAMES, service_codes, service_names
from netqos.features.schema import PACKET_FEATURES_SCHEMA
from netqos.flows.build import FlowAssignment
from netqos.flows.keys import KIND_IP

ClassCodes = dict[str, tuple[np.ndarray, list[str]]]


def packet_features(
    packets: pa.Table, a: FlowAssignment, analysis: pa.Table, service_ports: Mapping[str, tuple[int, ...]]
) -> tuple[pa.Table, ClassCodes]:
    """Row-aligned with `packets` and `analysis` (the output of analyze() for the same rows), and the integer
    codes behind the service_class / dscp_class columns (-1 = null), which the windows reuse."""
    n = packets.num_rows
    fidx = a.row_flow_index(n)
    in_flow = fidx >= 0
    safe = np.maximum(fidx, 0)
    cols: dict[str, pa.Array | pa.ChunkedArray] = {"frame_no": analysis.column("frame_no")}
    flow_id = a.flow_id[safe] if a.n_flows else np.zeros(n, np.int64)
    cols["flow_id"] = pa.array(flow_id, pa.int64(), mask=~in_flow)
    direction = np.zeros(n, np.int8)
    direction[a.order] = a.fdir
    cols["flow_dir"] = pa.array(direction, pa.int8(), mask=~in_flow)
    first = np.zeros(n, np.bool_)
    first[a.first] = True
    cols["flow_first"] = pa.array(first, pa.bool_(), mask=~in_flow)

    keys = a.keys
    sp = ints(column(packets, "src_port"), n, 0)[a.first]
    dp = ints(column(packets, "dst_port"), n, 0)[a.first]
    flipped = a.fdir[a.starts[:-1]] == 1
    resp, init = np.where(flipped, sp, dp), np.where(flipped, dp, sp)
    kind_ip = keys.kind[a.first] == KIND_IP
    svc = service_codes(service_ports, kind_ip, keys.proto[a.first], resp, init)
    svc_rows = np.where(in_flow, svc[safe] if a.n_flows else 0, -1)
    svc_names = service_names(service_ports)
    cols["service_class"] = pa.array(svc_names, pa.string()).take(pa.array(np.maximum(svc_rows, 0), mask=~in_flow))

    dscp_col = column(packets, "ip_dscp")
    dscp_ok = valid(dscp_col, n)
    dscp = ints(dscp_col, n, 0) & 0x3F
    cols["dscp_class"] = pa.array(DSCP_NAMES, pa.string()).take(pa.array(dscp, mask=~dscp_ok))
    codes: ClassCodes = {
        "service_class": (svc_rows.astype(np.int64), svc_names),
        "dscp_class": (np.where(dscp_ok, dscp, -1).astype(np.int64), list(DSCP_NAMES)),
    }

    ts = ints(packets.column("ts_ns"), n, 0)
    jit = np.full(n, np.nan)
    jit[a.order] = a.jitter_ns(ts) / 1e9
    cols["udp_jitter_s"] = pa.array(jit, pa.float64(), from_pandas=True)

    for f in PACKET_FEATURES_SCHEMA:
        if f.name not in cols:
            cols[f.name] = analysis.column(f.name)
    table = pa.Table.from_pydict({f.name: cols[f.name] for f in PACKET_FEATURES_SCHEMA}, schema=PACKET_FEATURES_SCHEMA)
    return table, codes
