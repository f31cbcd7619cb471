"""build_flows(): decoded packets (+ optional TCP analysis) -> one row per bidirectional flow.

Rows are grouped on the canonical key with the shared Numba hash table (netqos.analysis._grouping), sorted by
(group, timestamp) with NumPy, cut into flows and reduced per flow by the kernels in _kernel.py. No Python
object is created per packet. Column meanings: docs/flows.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from netqos.analysis._grouping import group_conversations
from netqos.analysis.columns import column, ints, valid
from netqos.decode.schema import SOURCE_FILE_COLUMN, SOURCE_FILE_FIELD
from netqos.flows import _kernel as k
from netqos.flows.config import FlowConfig
from netqos.flows.flow_id import flow_ids, text_hashes
from netqos.flows.keys import ICMP_PAIRS, KIND_IP, RowKeys, row_keys
from netqos.flows.schema import (
    ANALYSIS_COUNTERS,
    FLOW_SCHEMA,
    SCOPES,
    TCP_FLAG_NAMES,
)

REQUIRED_COLUMNS = ("ts_ns", "ip_src", "ip_dst")
OPTIONAL_COLUMNS = (
    "frame_no", "ip_version", "ip_proto", "ip_len", "wire_len", "src_port", "dst_port", "tcp_flags", "icmp_type",
    "icmp_id", "vlan_id", "vlan_inner_id", "eth_src", "eth_dst", "eth_type", "wlan_addr1", "wlan_addr2",
    "wlan_retry", "rt_dbm_antsignal", "sensor_id", SOURCE_FILE_COLUMN,
)  # fmt: skip
ANALYSIS_COLUMNS = (
    "frame_no", "tcp_retransmission", "tcp_out_of_order", "tcp_dup_ack", "tcp_zero_window", "tcp_ack_rtt",
)  # fmt: skip
END_REASONS = ("eof", "idle", "active", "fin", "rst")


def _bools(col: pa.ChunkedArray | None, n: int) -> np.ndarray:
    if col is None:
        return np.zeros(n, np.bool_)
    return np.asarray(pc.fill_null(col, False).to_numpy(zero_copy_only=False), dtype=np.bool_)


def _floats(col: pa.ChunkedArray | None, n: int) -> np.ndarray:
    if col is None:
        return np.full(n, np.nan)
    return np.asarray(pc.fill_null(col.cast(pa.float64()), float("nan")).to_numpy(), dtype=np.float64)


def _analysis_arrays(packets: pa.Table, analysis: pa.Table | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-row AN_* bits and ACK RTT (NaN = none), checked to line up with the packets row by row."""
    if analysis is None:
        return np.zeros(n, np.int64), np.full(n, np.nan)
    missing = [c for c in ANALYSIS_COLUMNS if c not in analysis.column_names]
    if missing:
        raise ValueError(f"analysis table lacks {missing}: pass the output of netqos.analysis.tcp.analyze(packets)")
    if analysis.num_rows != n or (
        "frame_no" in packets.column_names and not packets.column("frame_no").equals(analysis.column("frame_no"))
    ):
        raise ValueError(
            "analysis rows do not line up with the packet rows (row count or frame_no differ): "
            "pass analyze(packets) for the same table, in the same row order"
        )
    bits = np.zeros(n, np.int64)
    for name, bit in (
        ("tcp_retransmission", k.AN_RETRANS),
        ("tcp_out_of_order", k.AN_OOO),
        ("tcp_dup_ack", k.AN_DUPACK),
        ("tcp_zero_window", k.AN_ZEROWIN),
    ):
        bits |= np.where(_bools(analysis.column(name), n), bit, 0)
    return bits, _floats(analysis.column("tcp_ack_rtt"), n)


def _f64(values: np.ndarray) -> pa.Array:
    """float64 column, NaN -> null (contiguous copy first: pa.array is very slow on strided float views)."""
    return pa.array(np.ascontiguousarray(values, dtype=np.float64), pa.float64(), from_pandas=True)


def _nullable(values: np.ndarray, mask_null: np.ndarray, dtype: pa.DataType) -> pa.Array:
    return pa.array(np.ascontiguousarray(np.where(mask_null, 0, values)), dtype, mask=mask_null)


def _i64(values: np.ndarray) -> pa.Array:
    """int64 column from a (possibly strided) view: contiguous copy first, pa.array is slow on strided input."""
    return pa.array(np.ascontiguousarray(values, dtype=np.int64), pa.int64())


@dataclass(frozen=True)
class FlowAssignment:
    """Which flow each packet row belongs to. Rows are visited in `order` (by key, then time); flow f covers
    order[starts[f]:starts[f + 1]]. Per-flow arrays are in that cut order, not in output order."""

    keys: RowKeys
    order: np.ndarray  # input row indices of keyed rows, sorted by (group, ts), stable
    starts: np.ndarray  # n_flows + 1 offsets into order
    reason: np.ndarray  # END_* per flow
    fdir: np.ndarray  # per position in order: 0 initiator -> responder, 1 the other way
    flow_id: np.ndarray  # per flow
    first: np.ndarray  # input row of each flow's first packet
    first_ts: np.ndarray  # per flow
    perm: np.ndarray  # output order of flows: by first_ts, then flow_id
    tcp_flags: np.ndarray  # per input row: TCP flags byte, -1 for rows that are not TCP
    _cache: dict[str, np.ndarray] = field(default_factory=dict, compare=False, repr=False)

    @property
    def n_flows(self) -> int:
        return int(self.starts.shape[0] - 1)

    def jitter_ns(self, ts_all: np.ndarray) -> np.ndarray:
        """Per position of `order`: the RFC 3550 jitter (ns) of the row's UDP flow direction after it (NaN where
        none); computed once for the flow statistics and the per-packet features."""
        if "jitter" not in self._cache:
            udp = (self.keys.kind == KIND_IP) & (self.keys.proto == 17)
            self._cache["jitter"] = k.running_jitter(self.starts, self.fdir, ts_all[self.order], udp[self.order])
        return self._cache["jitter"]

    def row_flow_index(self, n: int) -> np.ndarray:
        """Per input row: its flow's index in cut order, -1 for rows in no flow."""
        out = np.full(n, -1, np.int64)
        out[self.order] = np.repeat(np.arange(self.n_flows, dtype=np.int64), np.diff(self.starts))
        return out


def assign_flows(packets: pa.Table, cfg: FlowConfig | None = None) -> FlowAssignment:
    """Cut packets into flows (no statistics): the part of build_flows() that the per-packet features share."""
    cfg = cfg or FlowConfig()
    missing = [c for c in REQUIRED_COLUMNS if c not in packets.column_names]
    if missing:
        raise ValueError(f"build_flows() needs columns {missing} of the packets schema")
    n = packets.num_rows
    keys = row_keys(packets, vlan_aware=cfg.vlan_aware, sensor_default=cfg.sensor_id, per_file=cfg.per_file)
    gid, dirn, _ = group_conversations(
        keys.keyed, keys.src_code, keys.dst_code, keys.src_port, keys.dst_port, keys.extra_hi, keys.extra_lo
    )
    ts_all = ints(packets.column("ts_ns"), n, 0)
    rows = np.flatnonzero(gid >= 0)
    order = rows[np.lexsort((ts_all[rows], gid[rows]))]
    tcp_flags = _tcp_flags(packets, keys, n)
    starts, reason, fdir = k.split_flows(
        gid[order], dirn[order], ts_all[order], tcp_flags[order], cfg.idle_ns, cfg.active_ns, cfg.tcp_close
    )
    first = order[starts[:-1]]
    first_ts = ts_all[first]
    flow_id = _flow_ids(keys, first, first_ts)
    perm = np.lexsort((flow_id, first_ts))
    return FlowAssignment(keys, order, starts, reason, fdir, flow_id, first, first_ts, perm, tcp_flags)


def _tcp_flags(packets: pa.Table, keys: RowKeys, n: int) -> np.ndarray:
    """TCP flags byte per row, -1 for rows that are not TCP."""
    is_tcp = (keys.kind == KIND_IP) & (keys.proto == 6) & valid(column(packets, "tcp_flags"), n)
    return np.where(is_tcp, ints(column(packets, "tcp_flags"), n, 0) & 0xFF, -1)


def build_flows(packets: pa.Table, analysis: pa.Table | None = None, cfg: FlowConfig | None = None) -> pa.Table:
    """Bidirectional flows of decoded packets (schema FLOW_SCHEMA, plus source_file when the input has it).

    `packets`: the packets schema of netqos.decode (REQUIRED_COLUMNS; OPTIONAL_COLUMNS used when present), any
    row order (ties in ts_ns keep the input order). `analysis`: `netqos.analysis.tcp.analyze(packets)`
    (row-aligned) for the TCP counters and RTT, or None. Flows are ordered by first timestamp, then flow_id.
    """
    return flows_table(packets, assign_flows(packets, cfg), analysis)


def flows_table(packets: pa.Table, a: FlowAssignment, analysis: pa.Table | None) -> pa.Table:
    """Per-flow statistics of an assignment (output order a.perm)."""
    n = packets.num_rows
    keys, order = a.keys, a.order
    ip_len, wire_len = ints(column(packets, "ip_len"), n, 0), ints(column(packets, "wire_len"), n, 0)
    size = np.where(keys.kind == KIND_IP, ip_len, wire_len)
    an_bits, rtt = _analysis_arrays(packets, analysis, n)
    retry_col = column(packets, "wlan_retry")
    retry = np.where(valid(retry_col, n), _bools(retry_col, n).astype(np.int64), -1)
    ts_all = ints(packets.column("ts_ns"), n, 0)
    stats = k.flow_stats(
        a.starts, a.perm, a.fdir, ts_all[order], size[order],
        a.tcp_flags[order], an_bits[order], rtt[order], a.jitter_ns(ts_all), retry[order],
        _floats(column(packets, "rt_dbm_antsignal"), n)[order],
    )  # fmt: skip
    flipped = a.fdir[a.starts[:-1]][a.perm] == 1  # the first packet went responder -> initiator (SYN/ACK first)
    return _assemble(packets, keys, a.first[a.perm], flipped, a.flow_id[a.perm], a.reason[a.perm], *stats)


def _flow_ids(keys: RowKeys, first: np.ndarray, first_ts: np.ndarray) -> np.ndarray:
    """Stable ids from hashes of the texts, never of dictionary codes (those depend on row order); the
    endpoints are combined order-independently, each address with its own port."""
    addr_h = text_hashes(keys.addresses)
    sensor_h = text_hashes(keys.sensors)[np.maximum(keys.sensor_code[first], 0)]
    return flow_ids(
        sensor_h, addr_h[keys.src_code[first]], keys.src_port[first], addr_h[keys.dst_code[first]],
        keys.dst_port[first], keys.extra_lo[first], first_ts,
    )  # fmt: skip


def _assemble(
    packets: pa.Table,
    keys: RowKeys,
    first: np.ndarray,
    flipped: np.ndarray,
    flow_id: np.ndarray,
    reason: np.ndarray,
    pk: np.ndarray,
    by: np.ndarray,
    t0: np.ndarray,
    t1: np.ndarray,
    ps: np.ndarray,
    iat: np.ndarray,
    flags: np.ndarray,
    an: np.ndarray,
    rt: np.ndarray,
    jit: np.ndarray,
    wl: np.ndarray,
) -> pa.Table:
    """Output columns; per-flow arrays are already in output order, stats column-major (flow index last)."""
    n = packets.num_rows
    nf = first.shape[0]
    src_code = np.where(flipped, keys.dst_code[first], keys.src_code[first])
    dst_code = np.where(flipped, keys.src_code[first], keys.dst_code[first])
    kind = keys.kind[first]
    is_ip = kind == KIND_IP
    proto = keys.proto[first]
    ported = is_ip & ((proto == 6) | (proto == 17) | (proto == 132))
    sp_all = ints(column(packets, "src_port"), n, 0)
    dp_all = ints(column(packets, "dst_port"), n, 0)
    sport = np.where(flipped, dp_all[first], sp_all[first])
    dport = np.where(flipped, sp_all[first], dp_all[first])
    port_null = ~ported | ~valid(column(packets, "src_port"), n)[first]
    is_icmp = is_ip & ((proto == 1) | (proto == 58))
    icmp_type = ints(column(packets, "icmp_type"), n, -1)[first]
    paired = np.zeros(nf, np.bool_)
    for p, pairs in ICMP_PAIRS.items():
        paired |= (proto == p) & np.isin(icmp_type, list(pairs))
    paired &= is_icmp
    icmp_id_valid = valid(column(packets, "icmp_id"), n)[first]
    icmp_id = ints(column(packets, "icmp_id"), n, 0)[first]

    cols: dict[str, pa.Array] = {}
    cols["flow_id"] = pa.array(flow_id, pa.int64())
    cols["sensor_id"] = keys.sensors.take(pa.array(np.maximum(keys.sensor_code[first], 0)))
    cols["flow_kind"] = pa.array(["l2", "ip"], pa.string()).take(pa.array(is_ip.astype(np.int8)))
    vid = keys.vlan_id[first]
    vin = keys.vlan_inner_id[first]
    cols["vlan_id"] = _nullable(vid, vid < 0, pa.int32())
    cols["vlan_inner_id"] = _nullable(vin, vin < 0, pa.int32())
    ipv = ints(column(packets, "ip_version"), n, -1)[first]
    cols["ip_version"] = _nullable(ipv, ~is_ip | (ipv < 0), pa.int8())
    cols["protocol"] = _nullable(proto, ~is_ip, pa.int16())
    cols["eth_type"] = _nullable(proto, is_ip, pa.int32())
    cols["src_addr"] = keys.addresses.take(pa.array(src_code))
    cols["dst_addr"] = keys.addresses.take(pa.array(dst_code))
    cols["src_port"] = _nullable(sport, port_null, pa.int32())
    cols["dst_port"] = _nullable(dport, port_null, pa.int32())
    cols["icmp_type"] = _nullable(icmp_type, ~is_icmp | (icmp_type < 0), pa.int16())
    cols["icmp_id"] = _nullable(icmp_id, ~paired | ~icmp_id_valid, pa.int32())
    cols["end_reason"] = pa.array(END_REASONS, pa.string()).take(pa.array(reason))

    for sc, (prefix, _) in enumerate(SCOPES):
        none = pk[sc] == 0
        cols[f"{prefix}packets"] = _i64(pk[sc])
        cols[f"{prefix}bytes"] = _i64(by[sc])
        cols[f"{prefix}first_ts_ns"] = _nullable(t0[sc], none, pa.int64())
        cols[f"{prefix}last_ts_ns"] = _nullable(t1[sc], none, pa.int64())
        cols[f"{prefix}duration_s"] = _nullable((t1[sc] - t0[sc]) / 1e9, none, pa.float64())
        for j, stat in enumerate(("min", "mean", "stddev", "max")):
            cols[f"{prefix}ps_{stat}"] = _f64(ps[sc, j])
            cols[f"{prefix}piat_{stat}_s"] = _f64(iat[sc, j] / 1e9)
        for b, flag in enumerate(TCP_FLAG_NAMES):
            cols[f"{prefix}{flag}_packets"] = _i64(flags[sc, b])
        for b, (name, _) in enumerate(ANALYSIS_COUNTERS):
            cols[f"{prefix}tcp_{name}"] = _i64(an[sc, b])
    rtt_n = np.nan_to_num(rt[0]).astype(np.int64)
    cols["tcp_rtt_samples"] = _i64(rtt_n)
    for j, stat in enumerate(("min", "mean", "p95", "max")):
        cols[f"tcp_rtt_{stat}_s"] = _f64(rt[j + 1])
    cols["src2dst_jitter_s"] = _f64(jit[0] / 1e9)
    cols["dst2src_jitter_s"] = _f64(jit[1] / 1e9)
    frames = wl[0]
    no_frames = np.isnan(frames) | (frames == 0)
    cols["wlan_frames"] = _nullable(np.nan_to_num(frames).astype(np.int64), no_frames, pa.int64())
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(frames > 0, wl[1] / frames, np.nan)
    cols["wlan_retry_rate"] = _f64(rate)
    cols["wlan_signal_mean_dbm"] = _f64(wl[2])
    cols["wlan_signal_min_dbm"] = _f64(wl[3])

    schema = FLOW_SCHEMA
    src_file = column(packets, SOURCE_FILE_COLUMN)
    if src_file is not None:
        cols[SOURCE_FILE_COLUMN] = src_file.take(pa.array(first)).combine_chunks()
        schema = schema.append(SOURCE_FILE_FIELD)
    return pa.Table.from_pydict(cols, schema=schema)
