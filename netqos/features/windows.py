"""qos_windows(): per sensor, window and class, the QoS features the models learn from (schema WINDOW_SCHEMA).

Input: one row per packet with the packet columns (ts_ns, wire_len, ip_proto, tcp_flags, l4_payload_len,
icmp_type, wlan_retry, rt_dbm_antsignal, sensor_id) and the per-packet feature columns (flow_id, flow_first,
service_class, dscp_class, udp_jitter_s, tcp_* analysis flags and tcp_ack_rtt). Row order does not matter.
Windows are aligned to the epoch; a window without packets has no row. Column meanings: docs/schema/qos_windows.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
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


def _dense_ids(key: np.ndarray, key_range: int) -> tuple[np.ndarray, np.ndarray]:
    """(distinct keys ascending, id of each row's key): a bincount over a small key range, else np.unique."""
    if key_range <= max(4 * key.shape[0], 1 << 16):
        present = np.flatnonzero(np.bincount(key, minlength=key_range))
        remap = np.full(key_range, -1, np.int64)
        remap[present] = np.arange(present.shape[0])
        return present, remap[key]
    uniq, inv = np.unique(key, return_inverse=True)
    return uniq, inv.reshape(-1)


# Additive per-row metrics, summed once per fine group and rolled up to every (window length, dimension).
_SUMS = ("one", "wire", "first", "segment", "retrans", "ooo", "lost", "dupack", "zerowin", "rst", "rtt_n", "jit_n",
         "unreach", "texceeded", "wlan", "wlan_retry", "sig_n", "sig_sum")  # fmt: skip


def qos_windows(
    table: pa.Table,
    window_seconds: Sequence[int],
    *,
    sensor_default: str = "local",
    plugins: Sequence[object] = (),
    flow_order: np.ndarray | None = None,
    class_codes: Mapping[str, tuple[np.ndarray, list[str]]] | None = None,
) -> pa.Table:
    """QoS windows of packets + per-packet features (see module doc); `plugins` add window columns.

    `flow_order`: row indices grouped by flow, each flow's rows in time order (featurize() has them from the flow
    cut); saves a sort. Rows not listed must be rows without a flow.

    How it stays cheap: rows are grouped once by (sensor, base window = gcd of the window lengths, service
    class, DSCP class); every additive column is summed over those fine groups and rolled up to each window
    length and dimension. Only distinct flows and percentiles look at rows again, each with one pre-sorted pass.
    """
    missing = [c for c in ("ts_ns", "flow_id") if c not in table.column_names]
    if missing:
        raise ValueError(f"qos_windows() needs columns {missing} (packets joined with their per-packet features)")
    n = table.num_rows
    rows: np.ndarray | slice = np.flatnonzero(valid(table.column("ts_ns"), n))
    assert isinstance(rows, np.ndarray)
    if rows.shape[0] == 0:
        return _to_table([], plugins)
    if rows.shape[0] == n:
        rows = slice(None)  # every row has a time: views instead of gathered copies
    ts = ints(table.column("ts_ns"), n, 0)
    sensor, sensors = _codes(table, "sensor_id", n, sensor_default)
    precoded = class_codes or {}
    svc, svc_names = precoded.get("service_class") or _codes(table, "service_class", n, None)
    dscp, dscp_names = precoded.get("dscp_class") or _codes(table, "dscp_class", n, None)
    m = _row_metrics(table, n)

    # Fine groups over rows with a timestamp.
    base_ns = math.gcd(*[int(w) for w in window_seconds]) * 1_000_000_000
    b = np.floor_divide(ts[rows], base_ns)
    bmin = int(b.min())
    nb, nsvc, ndscp = int(b.max()) - bmin + 1, len(svc_names) + 1, len(dscp_names) + 1
    parts = (sensor[rows], b - bmin, svc[rows] + 1, dscp[rows] + 1)  # +1: slot 0 = null class
    fine_key = ((parts[0] * nb + parts[1]) * nsvc + parts[2]) * ndscp + parts[3]
    fine_keys, fine = _dense_ids(fine_key, len(sensors) * nb * nsvc * ndscp)
    nf = fine_keys.shape[0]
    f_dscp = fine_keys % ndscp - 1
    f_svc = (fine_keys // ndscp) % nsvc - 1
    f_b = (fine_keys // ndscp // nsvc) % nb + bmin
    f_sensor = fine_keys // ndscp // nsvc // nb
    sums = {k: np.bincount(fine, weights=m[k][rows], minlength=nf) for k in _SUMS}
    sig_min = G.group_min(fine, m["signal"][rows], nf)

    flow, flow_ok = ints(table.column("flow_id"), n, 0)[rows], valid(table.column("flow_id"), n)[rows]
    runs = FlowRuns.of(flow, flow_ok, ts[rows], flow_order if isinstance(rows, slice) else None)
    rtt_rows = np.flatnonzero(~np.isnan(m["rtt"][rows]))
    rtt_rows = rtt_rows[np.argsort(m["rtt"][rows][rtt_rows], kind="stable")]
    jit_rows = np.flatnonzero(~np.isnan(m["jitter"][rows]))
    jit_rows = jit_rows[np.argsort(m["jitter"][rows][jit_rows], kind="stable")]

    out_parts = []
    for w in window_seconds:
        wns = int(w) * 1_000_000_000
        f_win = np.floor_divide(f_b * base_ns, wns)
        run_start = runs.starts(wns)
        for dim, f_cls, names in (
            ("all", np.zeros(nf, np.int64), [ALL]),
            ("service", f_svc, svc_names),
            ("dscp", f_dscp, dscp_names),
        ):
            keep = f_cls >= 0
            if not keep.any():
                continue
            wmin = int(f_win[keep].min())
            span = int(f_win[keep].max()) - wmin + 1
            ncls = max(len(names), 1)
            key = (f_sensor * span + (f_win - wmin)) * ncls + np.maximum(f_cls, 0)
            out_keys, out_ids = _dense_ids(key[keep], len(sensors) * span * ncls)
            out_of_fine = np.full(nf, -1, np.int64)
            out_of_fine[keep] = out_ids
            ng = out_keys.shape[0]
            group = out_of_fine[fine]  # per row (of `rows`)
            cols = _rolled_up(sums, sig_min, out_of_fine, ng, int(w))
            cols["active_flows"] = pa.array(_active_flows(group, runs, run_start, ng))
            p = _percentiles(group, m["rtt"][rows], rtt_rows, ng, (50.0, 95.0, 99.0))
            for i, q in enumerate(("p50", "p95", "p99")):
                cols[f"rtt_{q}_s"] = pa.array(p[i], pa.float64(), from_pandas=True)
            jp = _percentiles(group, m["jitter"][rows], jit_rows, ng, (95.0,))
            cols["jitter_p95_s"] = pa.array(jp[0], pa.float64(), from_pandas=True)
            k_cls = out_keys % ncls
            start_ns = ((out_keys // ncls) % span + wmin) * wns
            cols["sensor_id"] = pa.array(sensors, pa.string()).take(pa.array(out_keys // ncls // span))
            cols["window_s"] = pa.array(np.full(ng, w, np.int32))
            cols["window_start_ns"] = pa.array(start_ns, pa.int64())
            cols["window_start"] = pa.array(start_ns // 1000, pa.int64()).cast(pa.timestamp("us", tz="UTC"))
            cols["dimension"] = pa.array(np.full(ng, dim, object), pa.string())
            cols["class"] = pa.array(names, pa.string()).take(pa.array(k_cls))
            extra: dict[str, pa.Array] = {}
            if plugins:
                row_group = np.full(n, -1, np.int64)
                row_group[rows] = group
                wg = WindowGroups(table, int(w), dim, row_group, ng)
                for plugin in plugins:
                    extra.update(plugin.on_windows(wg))  # type: ignore[attr-defined]
            out_parts.append((cols, extra))
    return _to_table(out_parts, plugins)


def _active_flows(group: np.ndarray, runs: FlowRuns, run_start: np.ndarray, ng: int) -> np.ndarray:
    """Distinct flows per output group. In (flow, time) order a flow's rows of one window are one run; when each
    run falls in one group (the class is constant per flow and window, as service always is) counting run starts
    is exact, else fall back to a sort."""
    g = group[runs.order]
    if np.any((g[1:] != g[:-1]) & ~run_start[1:]):
        return G.distinct_count(group, runs.flow, runs.flow_ok & (group >= 0), ng)
    first = run_start & runs.flow_ok_sorted & (g >= 0)
    return np.bincount(g[first], minlength=ng)[:ng].astype(np.int64)


@dataclass(frozen=True)
class FlowRuns:
    """Rows in (flow, time) order, computed once per call."""

    flow: np.ndarray
    flow_ok: np.ndarray
    order: np.ndarray
    ts_sorted: np.ndarray
    flow_ok_sorted: np.ndarray
    flow_change: np.ndarray  # per sorted row: first row or a different flow than the previous row

    @classmethod
    def of(cls, flow: np.ndarray, flow_ok: np.ndarray, ts: np.ndarray, order: np.ndarray | None = None) -> FlowRuns:
        if order is None:
            order = np.lexsort((ts, flow))
        f = flow[order]
        change = np.ones(f.shape[0], np.bool_)
        change[1:] = f[1:] != f[:-1]
        return cls(flow, flow_ok, order, ts[order], flow_ok[order], change)

    def starts(self, window_ns: int) -> np.ndarray:
        """Per sorted row: starts a (flow, window) run."""
        win = np.floor_divide(self.ts_sorted, window_ns)
        start = self.flow_change.copy()
        start[1:] |= win[1:] != win[:-1]
        return start


def _percentiles(
    group: np.ndarray, values: np.ndarray, by_value: np.ndarray, ng: int, qs: tuple[float, ...]
) -> np.ndarray:
    """Exact per-group percentiles; `by_value` = row indices with a value, sorted by value, so one stable sort by
    group leaves each group's values in order."""
    g = group[by_value]
    keep = g >= 0
    idx, g = by_value[keep], g[keep]
    order = np.argsort(g, kind="stable")
    return G.sorted_group_percentiles(g[order], values[idx[order]], ng, qs)


def _rolled_up(
    sums: dict[str, np.ndarray], sig_min: np.ndarray, out_of_fine: np.ndarray, ng: int, w: int
) -> dict[str, pa.Array]:
    keep = out_of_fine >= 0
    dst = out_of_fine[keep]

    def total(name: str) -> np.ndarray:
        return np.bincount(dst, weights=sums[name][keep], minlength=ng)[:ng]

    def count(name: str) -> pa.Array:
        return pa.array(np.rint(total(name)).astype(np.int64), pa.int64())

    packets, wire, seg = total("one"), total("wire"), total("segment")
    retrans, ooo = total("retrans"), total("ooo")
    unreach, texc, frames = total("unreach"), total("texceeded"), total("wlan")
    signal_min = np.full(ng, np.inf)
    np.minimum.at(signal_min, dst, np.where(np.isnan(sig_min[keep]), np.inf, sig_min[keep]))
    signal_min[np.isinf(signal_min)] = np.nan
    return {
        "packets": count("one"),
        "bytes": count("wire"),
        "bps": pa.array(wire * 8.0 / w, pa.float64()),
        "pps": pa.array(packets / w, pa.float64()),
        "new_flows": count("first"),
        "tcp_segments": count("segment"),
        "tcp_retransmissions": count("retrans"),
        "tcp_retransmission_rate": _ratio(retrans, seg),
        "tcp_out_of_order": count("ooo"),
        "tcp_out_of_order_rate": _ratio(ooo, seg),
        "tcp_lost_segments": count("lost"),
        "tcp_dup_acks": count("dupack"),
        "tcp_zero_window": count("zerowin"),
        "tcp_resets": count("rst"),
        "rtt_samples": count("rtt_n"),
        "jitter_samples": count("jit_n"),
        "icmp_unreachable": count("unreach"),
        "icmp_unreachable_rate": _ratio(unreach, packets),
        "icmp_time_exceeded": count("texceeded"),
        "icmp_time_exceeded_rate": _ratio(texc, packets),
        "wlan_frames": count("wlan"),
        "wlan_retry_rate": _ratio(total("wlan_retry"), frames),
        "wlan_signal_mean_dbm": _ratio(total("sig_sum"), total("sig_n")),
        "wlan_signal_min_dbm": pa.array(signal_min, pa.float64(), from_pandas=True),
    }


def _row_metrics(table: pa.Table, n: int) -> dict[str, np.ndarray]:
    proto = ints(column(table, "ip_proto"), n, -1)
    flags = np.where(valid(column(table, "tcp_flags"), n), ints(column(table, "tcp_flags"), n, 0), -1)
    tcp = (proto == 6) & (flags >= 0)
    payload = ints(column(table, "l4_payload_len"), n, 0)
    icmp_type = ints(column(table, "icmp_type"), n, -1)
    retry_col = column(table, "wlan_retry")
    rtt = _floats(table, "tcp_ack_rtt", n)
    jitter = _floats(table, "udp_jitter_s", n)
    signal = _floats(table, "rt_dbm_antsignal", n)
    wlan = valid(retry_col, n)
    return {
        "one": np.ones(n),
        "rtt_n": ~np.isnan(rtt),
        "jit_n": ~np.isnan(jitter),
        "wlan_retry": wlan & _bools(table, "wlan_retry", n),
        "sig_n": ~np.isnan(signal),
        "sig_sum": np.nan_to_num(signal),
        "wire": ints(column(table, "wire_len"), n, 0).astype(np.float64),
        "segment": tcp & ((payload > 0) | ((flags & 0x03) != 0)),
        "retrans": _bools(table, "tcp_retransmission", n),
        "ooo": _bools(table, "tcp_out_of_order", n),
        "lost": _bools(table, "tcp_lost_segment", n),
        "dupack": _bools(table, "tcp_dup_ack", n),
        "zerowin": _bools(table, "tcp_zero_window", n),
        "rst": tcp & ((flags & 0x04) != 0),
        "rtt": rtt,
        "jitter": jitter,
        "unreach": ((proto == 1) & (icmp_type == 3)) | ((proto == 58) & (icmp_type == 1)),
        "texceeded": ((proto == 1) & (icmp_type == 11)) | ((proto == 58) & (icmp_type == 3)),
        "wlan": wlan,
        "signal": signal,
        "first": _bools(table, "flow_first", n),
    }


def _ratio(num: np.ndarray, den: np.ndarray) -> pa.Array:
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(den > 0, num / np.maximum(den, 1), np.nan)
    return pa.array(r, pa.float64(), from_pandas=True)


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
