"""qos_windows(): per sensor, window and class, the QoS features the models learn from (schema WINDOW_SCHEMA).

Input: one row per packet with the packet columns (ts_ns, wire_len, ip_proto, tcp_flags, l4_payload_len,
icmp_type, wlan_retry, rt_dbm_antsignal, sensor_id) and the per-packet feature columns (flow_id, flow_first,
service_class, dscp_class, udp_jitter_s, tcp_* analysis flags and tcp_ack_rtt). Row order does not matter.
Windows are aligned to the epoch; a window without packets has no row. Column meanings: docs/schema/qos_windows.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from netqos.analysis.columns import column, ints, valid
from netqos.features import _groups as G
from netqos.features.schema import WINDOW_SCHEMA

NEEDED = (
    "ts_ns", "wire_len", "ip_proto", "tcp_flags", "l4_payload_len", "icmp_type", "flow_id", "flow_first",
    "service_class", "dscp_class", "udp_jitter_s", "tcp_retransmission", "tcp_out_of_order", "tcp_lost_segment",
    "tcp_dup_ack", "tcp_zero_window", "tcp_ack_rtt",
)  # fmt: skip
ALL = "all"


@dataclass(frozen=True)
class WindowGroups:
    """Rows of one (window length, dimension) pass: `group[i]` is row i's output row (-1: not counted here)."""

    table: pa.Table
    window_s: int
    dimension: str
    group: np.ndarray
    n_groups: int

    def sum(self, values: np.ndarray) -> np.ndarray:
        m = self.group >= 0
        return G.group_sum(self.group[m], values[m].astype(np.float64), self.n_groups)

    def count(self, mask: np.ndarray) -> np.ndarray:
        m = (self.group >= 0) & mask
        return np.bincount(self.group[m], minlength=self.n_groups)[: self.n_groups].astype(np.int64)


def _bools(table: pa.Table, name: str, n: int) -> np.ndarray:
    col = column(table, name)
    if col is None:
        return np.zeros(n, np.bool_)
    return np.asarray(pc.fill_null(col, False).to_numpy(zero_copy_only=False), dtype=np.bool_)


def _floats(table: pa.Table, name: str, n: int) -> np.ndarray:
    col = column(table, name)
    if col is None:
        return np.full(n, np.nan)
    return np.asarray(pc.fill_null(col.cast(pa.float64()), float("nan")).to_numpy(), dtype=np.float64)


def _codes(table: pa.Table, name: str, n: int, default: str | None) -> tuple[np.ndarray, list[str]]:
    """Dictionary codes of a string column (-1 = null), with the dictionary as a list."""
    col = column(table, name)
    if col is None:
        return (np.full(n, -1, np.int64), []) if default is None else (np.zeros(n, np.int64), [default])
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if default is not None:
        arr = pc.fill_null(arr, default)
    enc = pc.dictionary_encode(arr)
    codes = np.asarray(pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
    return codes, enc.dictionary.to_pylist()


def qos_windows(
    table: pa.Table, window_seconds: Sequence[int], *, sensor_default: str = "local", plugins: Sequence[object] = ()
) -> pa.Table:
    """QoS windows of packets + per-packet features (see module doc); `plugins` add window columns."""
    missing = [c for c in ("ts_ns", "flow_id") if c not in table.column_names]
    if missing:
        raise ValueError(f"qos_windows() needs columns {missing} (packets joined with their per-packet features)")
    n = table.num_rows
    ts_ok = valid(table.column("ts_ns"), n)
    ts = ints(table.column("ts_ns"), n, 0)
    sensor, sensors = _codes(table, "sensor_id", n, sensor_default)
    metrics = _row_metrics(table, n)
    dims = [
        ("all", np.zeros(n, np.int64), [ALL]),
        ("service", *_codes(table, "service_class", n, None)),
        ("dscp", *_codes(table, "dscp_class", n, None)),
    ]
    flow_ok = valid(table.column("flow_id"), n)
    flow = ints(table.column("flow_id"), n, 0)
    parts = []
    for w in window_seconds:
        wns = int(w) * 1_000_000_000
        win = np.floor_divide(ts, wns)
        for dim, cls, names in dims:
            rows = ts_ok & (cls >= 0)
            if not rows.any():
                continue
            # Dense key (sensor, window, class) -> output row, via one np.unique over the packed key.
            wmin = int(win[rows].min())
            span = int(win[rows].max()) - wmin + 1
            ncls = max(len(names), 1)
            key = (sensor * span + (win - wmin)) * ncls + cls
            uniq, inv = np.unique(key[rows], return_inverse=True)
            group = np.full(n, -1, np.int64)
            group[rows] = inv
            wg = WindowGroups(table, int(w), dim, group, int(uniq.shape[0]))
            cols = _aggregate(wg, metrics, flow, flow_ok)
            k_cls = uniq % ncls
            k_win = (uniq // ncls) % span + wmin
            k_sensor = uniq // ncls // span
            cols["sensor_id"] = pa.array(sensors, pa.string()).take(pa.array(k_sensor))
            cols["window_s"] = pa.array(np.full(wg.n_groups, w, np.int32))
            start_ns = k_win * wns
            cols["window_start_ns"] = pa.array(start_ns, pa.int64())
            cols["window_start"] = pa.array(start_ns // 1000, pa.int64()).cast(pa.timestamp("us", tz="UTC"))
            cols["dimension"] = pa.array(np.full(wg.n_groups, dim, object), pa.string())
            cols["class"] = pa.array(names, pa.string()).take(pa.array(k_cls))
            extra: dict[str, pa.Array] = {}
            for plugin in plugins:
                extra.update(plugin.on_windows(wg))  # type: ignore[attr-defined]
            parts.append((cols, extra))
    return _to_table(parts, plugins)


def _row_metrics(table: pa.Table, n: int) -> dict[str, np.ndarray]:
    proto = ints(column(table, "ip_proto"), n, -1)
    flags = np.where(valid(column(table, "tcp_flags"), n), ints(column(table, "tcp_flags"), n, 0), -1)
    tcp = (proto == 6) & (flags >= 0)
    payload = ints(column(table, "l4_payload_len"), n, 0)
    icmp_type = ints(column(table, "icmp_type"), n, -1)
    retry_col = column(table, "wlan_retry")
    return {
        "wire": ints(column(table, "wire_len"), n, 0).astype(np.float64),
        "segment": tcp & ((payload > 0) | ((flags & 0x03) != 0)),
        "retrans": _bools(table, "tcp_retransmission", n),
        "ooo": _bools(table, "tcp_out_of_order", n),
        "lost": _bools(table, "tcp_lost_segment", n),
        "dupack": _bools(table, "tcp_dup_ack", n),
        "zerowin": _bools(table, "tcp_zero_window", n),
        "rst": tcp & ((flags & 0x04) != 0),
        "rtt": _floats(table, "tcp_ack_rtt", n),
        "jitter": _floats(table, "udp_jitter_s", n),
        "unreach": ((proto == 1) & (icmp_type == 3)) | ((proto == 58) & (icmp_type == 1)),
        "texceeded": ((proto == 1) & (icmp_type == 11)) | ((proto == 58) & (icmp_type == 3)),
        "wlan": valid(retry_col, n),
        "retry": _bools(table, "wlan_retry", n),
        "signal": _floats(table, "rt_dbm_antsignal", n),
        "first": _bools(table, "flow_first", n),
    }


def _ratio(num: np.ndarray, den: np.ndarray) -> pa.Array:
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(den > 0, num / np.maximum(den, 1), np.nan)
    return pa.array(r, pa.float64(), from_pandas=True)


def _aggregate(
    wg: WindowGroups, m: dict[str, np.ndarray], flow: np.ndarray, flow_ok: np.ndarray
) -> dict[str, pa.Array]:
    ng, w = wg.n_groups, wg.window_s
    every = np.ones(wg.group.shape[0], np.bool_)
    packets = wg.count(every)
    wire = wg.sum(m["wire"])
    cols: dict[str, pa.Array] = {
        "packets": pa.array(packets, pa.int64()),
        "bytes": pa.array(wire.astype(np.int64), pa.int64()),
        "bps": pa.array(wire * 8.0 / w, pa.float64()),
        "pps": pa.array(packets / w, pa.float64()),
    }
    counted = wg.group >= 0
    cols["active_flows"] = pa.array(G.distinct_count(wg.group, flow, counted & flow_ok, ng), pa.int64())
    cols["new_flows"] = pa.array(wg.count(m["first"]), pa.int64())
    seg = wg.count(m["segment"])
    retrans, ooo = wg.count(m["retrans"]), wg.count(m["ooo"])
    cols["tcp_segments"] = pa.array(seg, pa.int64())
    cols["tcp_retransmissions"] = pa.array(retrans, pa.int64())
    cols["tcp_retransmission_rate"] = _ratio(retrans, seg)
    cols["tcp_out_of_order"] = pa.array(ooo, pa.int64())
    cols["tcp_out_of_order_rate"] = _ratio(ooo, seg)
    for out, key in (("tcp_lost_segments", "lost"), ("tcp_dup_acks", "dupack"), ("tcp_zero_window", "zerowin")):
        cols[out] = pa.array(wg.count(m[key]), pa.int64())
    cols["tcp_resets"] = pa.array(wg.count(m["rst"]), pa.int64())
    g = np.where(counted, wg.group, 0)
    rtt = np.where(counted, m["rtt"], np.nan)
    cols["rtt_samples"] = pa.array(wg.count(~np.isnan(rtt)), pa.int64())
    p = G.group_percentiles(g, rtt, ng, (50.0, 95.0, 99.0))
    for i, q in enumerate(("p50", "p95", "p99")):
        cols[f"rtt_{q}_s"] = pa.array(p[i], pa.float64(), from_pandas=True)
    jit = np.where(counted, m["jitter"], np.nan)
    cols["jitter_samples"] = pa.array(wg.count(~np.isnan(jit)), pa.int64())
    cols["jitter_p95_s"] = pa.array(G.group_percentiles(g, jit, ng, (95.0,))[0], pa.float64(), from_pandas=True)
    unreach, texc = wg.count(m["unreach"]), wg.count(m["texceeded"])
    cols["icmp_unreachable"] = pa.array(unreach, pa.int64())
    cols["icmp_unreachable_rate"] = _ratio(unreach, packets)
    cols["icmp_time_exceeded"] = pa.array(texc, pa.int64())
    cols["icmp_time_exceeded_rate"] = _ratio(texc, packets)
    frames = wg.count(m["wlan"])
    cols["wlan_frames"] = pa.array(frames, pa.int64())
    cols["wlan_retry_rate"] = _ratio(wg.count(m["wlan"] & m["retry"]), frames)
    sig = np.where(counted, m["signal"], np.nan)
    sig_n = wg.count(~np.isnan(sig))
    sig_sum = G.group_sum(g, np.nan_to_num(sig), ng)
    cols["wlan_signal_mean_dbm"] = _ratio(sig_sum, sig_n)
    cols["wlan_signal_min_dbm"] = pa.array(G.group_min(g, sig, ng), pa.float64(), from_pandas=True)
    return cols


def _to_table(parts: list[tuple[dict[str, pa.Array], dict[str, pa.Array]]], plugins: Sequence[object]) -> pa.Table:
    from netqos.features.plugins import append_columns

    declared = [c for plugin in plugins for c in plugin.window_columns]  # type: ignore[attr-defined]
    if not parts:
        schema = WINDOW_SCHEMA
        for name, dtype, doc in declared:
            schema = schema.append(pa.field(name, dtype, nullable=True, metadata={"doc": doc}))
        return schema.empty_table()
    tables = [
        append_columns(pa.Table.from_pydict(cols, schema=WINDOW_SCHEMA), declared, extra, "window")
        for cols, extra in parts
    ]
    return pa.concat_tables(tables).sort_by(
        [("sensor_id", "ascending"), ("window_s", "ascending"), ("window_start_ns", "ascending"),
         ("dimension", "ascending"), ("class", "ascending")]
    )  # fmt: skip
