"""qos_windows() against a straightforward pandas reference (one Python pass per window row), on a synthetic table
and on featurize() output of real captures; window alignment; FeatureConfig validation."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from netqos.features import WINDOW_SCHEMA, FeatureConfig, qos_windows
from netqos.features.pipeline import Features
from netqos.flows import FlowConfig

S = 1_000_000_000
KEY = ("sensor_id", "window_s", "window_start_ns", "dimension", "class")
RATES = (
    "tcp_retransmission_rate", "tcp_out_of_order_rate", "icmp_unreachable_rate", "icmp_time_exceeded_rate",
    "wlan_retry_rate",
)  # fmt: skip
REF_COLUMNS = (
    "ts_ns", "sensor_id", "wire_len", "ip_proto", "tcp_flags", "l4_payload_len", "icmp_type", "flow_id", "flow_first",
    "service_class", "dscp_class", "udp_jitter_s", "tcp_retransmission", "tcp_out_of_order", "tcp_lost_segment",
    "tcp_dup_ack", "tcp_zero_window", "tcp_ack_rtt", "wlan_retry", "rt_dbm_antsignal",
)  # fmt: skip


# ------------------------------------------------------------------------------------------- the reference


def _frame(table: pa.Table) -> pd.DataFrame:
    """Plain Python objects (None for null) so the reference does its own null handling."""
    n = table.num_rows
    data = {c: table.column(c).to_pylist() if c in table.column_names else [None] * n for c in REF_COLUMNS}
    return pd.DataFrame(data, dtype=object)


def _rate(num: int, den: int) -> float | None:
    return num / den if den else None


def _pct(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def _metrics(d: pd.DataFrame, w: int) -> dict[str, Any]:
    def flag(name: str) -> int:
        return sum(v is True for v in d[name])

    tcp = [p == 6 and f is not None for p, f in zip(d.ip_proto, d.tcp_flags, strict=True)]
    seg = sum(
        t and ((pl or 0) > 0 or (f & 0x03) != 0) for t, pl, f in zip(tcp, d.l4_payload_len, d.tcp_flags, strict=True)
    )
    rst = sum(t and (f & 0x04) != 0 for t, f in zip(tcp, d.tcp_flags, strict=True))
    pairs = list(zip(d.ip_proto, d.icmp_type, strict=True))
    unreach = sum((p == 1 and t == 3) or (p == 58 and t == 1) for p, t in pairs)
    texc = sum((p == 1 and t == 11) or (p == 58 and t == 3) for p, t in pairs)
    rtt = [v for v in d.tcp_ack_rtt if v is not None]
    jit = [v for v in d.udp_jitter_s if v is not None]
    retry = [v for v in d.wlan_retry if v is not None]
    sig = [v for v in d.rt_dbm_antsignal if v is not None]
    packets = len(d)
    nbytes = sum(v or 0 for v in d.wire_len)
    retrans, ooo = flag("tcp_retransmission"), flag("tcp_out_of_order")
    return {
        "packets": packets,
        "bytes": nbytes,
        "bps": nbytes * 8 / w,
        "pps": packets / w,
        "active_flows": len({v for v in d.flow_id if v is not None}),
        "new_flows": flag("flow_first"),
        "tcp_segments": seg,
        "tcp_retransmissions": retrans,
        "tcp_retransmission_rate": _rate(retrans, seg),
        "tcp_out_of_order": ooo,
        "tcp_out_of_order_rate": _rate(ooo, seg),
        "tcp_lost_segments": flag("tcp_lost_segment"),
        "tcp_dup_acks": flag("tcp_dup_ack"),
        "tcp_zero_window": flag("tcp_zero_window"),
        "tcp_resets": rst,
        "rtt_samples": len(rtt),
        "rtt_p50_s": _pct(rtt, 50),
        "rtt_p95_s": _pct(rtt, 95),
        "rtt_p99_s": _pct(rtt, 99),
        "jitter_samples": len(jit),
        "jitter_p95_s": _pct(jit, 95),
        "icmp_unreachable": unreach,
        "icmp_unreachable_rate": _rate(unreach, packets),
        "icmp_time_exceeded": texc,
        "icmp_time_exceeded_rate": _rate(texc, packets),
        "wlan_frames": len(retry),
        "wlan_retry_rate": _rate(sum(retry), len(retry)),
        "wlan_signal_mean_dbm": sum(sig) / len(sig) if sig else None,
        "wlan_signal_min_dbm": float(min(sig)) if sig else None,
    }


def reference_windows(table: pa.Table, windows: Sequence[int], sensor_default: str = "local") -> dict[tuple, dict]:
    df = _frame(table)
    df = df[df.ts_ns.notna()].copy()
    df["sensor"] = [s if s is not None else sensor_default for s in df.sensor_id]
    df["all"] = "all"
    out: dict[tuple, dict] = {}
    for w in windows:
        df["win"] = [t // (w * S) for t in df.ts_ns]  # Python ints: exact floor division
        for dim, col in (("all", "all"), ("service", "service_class"), ("dscp", "dscp_class")):
            d = df[df[col].notna()]
            for (sensor, win, cls), rows in d.groupby(["sensor", "win", col], sort=False):
                out[(sensor, w, win * w * S, dim, cls)] = _metrics(rows, w)
    return out


def assert_windows_match(got: pa.Table, expected: dict[tuple, dict]) -> None:
    assert [(f.name, f.type) for f in got.schema][: len(WINDOW_SCHEMA)] == [(f.name, f.type) for f in WINDOW_SCHEMA]
    rows = got.to_pylist()
    keys = [tuple(r[k] for k in KEY) for r in rows]
    assert len(set(keys)) == len(keys), "duplicate window rows"
    assert keys == sorted(keys), "rows not sorted by sensor, window_s, window_start, dimension, class"
    assert set(keys) == set(expected), (
        f"missing {sorted(set(expected) - set(keys))[:5]}, unexpected {sorted(set(keys) - set(expected))[:5]}"
    )
    for key, r in zip(keys, rows, strict=True):
        assert r["window_start"] == pd.Timestamp(r["window_start_ns"], unit="ns", tz="UTC").to_pydatetime()
        assert r["window_start_ns"] % (r["window_s"] * S) == 0
        assert r["packets"] > 0
        for rate in RATES:
            assert r[rate] is None or 0.0 <= r[rate] <= 1.0, (key, rate, r[rate])
        for name, want in expected[key].items():
            have = r[name]
            if want is None:
                assert have is None, (key, name, have)
            elif isinstance(want, int):
                assert have == want, (key, name, have, want)
            else:
                assert have is not None and math.isclose(have, want, rel_tol=1e-9, abs_tol=1e-12), (
                    key,
                    name,
                    have,
                    want,
                )


# ------------------------------------------------------------------------------------------- synthetic table


def synthetic(seed: int, n: int = 3000) -> pa.Table:
    rng = np.random.default_rng(seed)

    def pick(options: list[Any], p: list[float] | None = None) -> list[Any]:
        return [options[i] for i in rng.choice(len(options), n, p=p)]

    base = 1_700_000_000 * S
    ts: list[int | None] = [int(v) for v in base + rng.integers(0, 150 * S, n)]
    ts[:6] = [base, base + 10 * S, base + 10 * S - 1, base + 60 * S, base + 59 * S + S - 1, None]  # boundaries
    for i in rng.choice(n, 40, replace=False):
        ts[i] = None
    proto = pick([6, 6, 6, 17, 17, 1, 58, 50, None])
    flags: list[int | None] = []
    payload: list[int | None] = []
    icmp: list[int | None] = []
    jitter: list[float | None] = []
    seg_flags: dict[str, list[bool | None]] = {c: [] for c in ("retr", "ooo", "lost", "dup", "zw")}
    rtt: list[float | None] = []
    for p in proto:
        f = (
            int(rng.choice([0x10, 0x18, 0x02, 0x12, 0x11, 0x14, 0x04, 0x10]))
            if p == 6 and rng.random() > 0.05
            else None
        )
        pl = int(rng.choice([0, 0, 1, 100, 1448])) if p in (6, 17) else None
        flags.append(f)
        payload.append(pl)
        icmp.append(int(rng.choice([0, 1, 3, 8, 11, 128, 129])) if p in (1, 58) else None)
        jitter.append(round(float(rng.exponential(0.004)), 6) if p == 17 and rng.random() < 0.6 else None)
        is_tcp = p == 6 and f is not None
        is_seg = is_tcp and ((pl or 0) > 0 or (f & 0x03) != 0)  # type: ignore[operator]
        for name, share, ok in (("retr", 0.2, is_seg), ("ooo", 0.1, is_seg), ("lost", 0.05, is_seg),
                                ("dup", 0.1, is_tcp), ("zw", 0.05, is_tcp)):  # fmt: skip
            seg_flags[name].append(bool(rng.random() < share) if ok else None)
        rtt.append(round(float(rng.exponential(0.03)), 6) if is_tcp and rng.random() < 0.5 else None)
    flow = [int(v) if v >= 0 else None for v in rng.integers(-3, 60, n) * 7919]
    wlan = rng.random(n) < 0.25
    cols: dict[str, pa.Array] = {
        "ts_ns": pa.array(ts, pa.int64()),
        "sensor_id": pa.array(pick(["edge-a", "edge-b", None]), pa.string()),
        "wire_len": pa.array([int(v) if v > 60 else None for v in rng.integers(55, 1515, n)], pa.int32()),
        "ip_proto": pa.array(proto, pa.int16()),
        "tcp_flags": pa.array(flags, pa.int16()),
        "l4_payload_len": pa.array(payload, pa.int32()),
        "icmp_type": pa.array(icmp, pa.int16()),
        "flow_id": pa.array(flow, pa.int64()),
        "flow_first": pa.array([bool(rng.random() < 0.1) if f is not None else None for f in flow], pa.bool_()),
        "service_class": pa.array(pick(["web", "dns", "other", "icmp", None]), pa.string()),
        "dscp_class": pa.array(pick(["be", "be", "ef", "af41", None]), pa.string()),
        "udp_jitter_s": pa.array(jitter, pa.float64()),
        "tcp_retransmission": pa.array(seg_flags["retr"], pa.bool_()),
        "tcp_out_of_order": pa.array(seg_flags["ooo"], pa.bool_()),
        "tcp_lost_segment": pa.array(seg_flags["lost"], pa.bool_()),
        "tcp_dup_ack": pa.array(seg_flags["dup"], pa.bool_()),
        "tcp_zero_window": pa.array(seg_flags["zw"], pa.bool_()),
        "tcp_ack_rtt": pa.array(rtt, pa.float64()),
        "wlan_retry": pa.array([bool(rng.random() < 0.3) if x else None for x in wlan], pa.bool_()),
        "rt_dbm_antsignal": pa.array([int(rng.integers(-90, -30)) if x else None for x in wlan], pa.int16()),
    }
    return pa.table(cols)


@pytest.mark.parametrize("seed", [11, 12])
def test_synthetic_table_matches_reference(seed: int) -> None:
    table = synthetic(seed)
    got = qos_windows(table, (1, 10, 60), sensor_default="edge-z")
    expected = reference_windows(table, (1, 10, 60), sensor_default="edge-z")
    assert {k[0] for k in expected} == {"edge-a", "edge-b", "edge-z"}
    assert_windows_match(got, expected)
    # row order does not matter (percentiles may differ in the last bits: the group numbering changes)
    perm = np.random.default_rng(seed).permutation(table.num_rows)
    assert_windows_match(qos_windows(table.take(pa.array(perm)), (1, 10, 60), sensor_default="edge-z"), expected)


def test_window_alignment_to_epoch_and_dimensions() -> None:
    ts = [-1, 0, 9 * S + S - 1, 10 * S, 59 * S, 60 * S + 1, 3_600 * S * 1000 + 5 * S]
    n = len(ts)
    table = pa.table(
        {
            "ts_ns": pa.array(ts, pa.int64()),
            "wire_len": pa.array([100] * n, pa.int32()),
            "flow_id": pa.array([1, 1, 2, None, 2, 3, 3], pa.int64()),
            "flow_first": pa.array([True, False, True, None, False, True, False]),
            "service_class": pa.array(["web", "web", "dns", None, "dns", "web", "web"]),
            "dscp_class": pa.array(["ef", "be", "be", "be", None, "be", "be"]),
        }
    )
    got = qos_windows(table, (10, 60))
    rows = {(r["window_s"], r["window_start_ns"], r["dimension"], r["class"]): r for r in got.to_pylist()}
    expected_keys = {
        (10, -10 * S, "all", "all"), (10, 0, "all", "all"), (10, 10 * S, "all", "all"), (10, 50 * S, "all", "all"),
        (10, 60 * S, "all", "all"), (10, 3_600_000 * S, "all", "all"),
        (60, -60 * S, "all", "all"), (60, 0, "all", "all"), (60, 60 * S, "all", "all"),
        (60, 3_600_000 * S, "all", "all"),
    }  # fmt: skip
    assert {k for k in rows if k[2] == "all"} == expected_keys
    assert rows[(10, 0, "all", "all")]["packets"] == 2  # 0 and 9.999999999 s; 10 s opens the next window
    assert rows[(60, 0, "all", "all")]["packets"] == 4
    assert rows[(60, 0, "all", "all")]["active_flows"] == 2 and rows[(60, 0, "all", "all")]["new_flows"] == 1
    assert rows[(10, -10 * S, "all", "all")]["window_start"].isoformat() == "1969-12-31T23:59:50+00:00"
    # a row with a null class counts in 'all' but in no class of that dimension
    assert (10, 10 * S, "service", "dns") not in rows and rows[(10, 10 * S, "all", "all")]["packets"] == 1
    assert rows[(60, 0, "service", "dns")]["packets"] == 2 and rows[(60, 0, "dscp", "be")]["packets"] == 3
    assert {k[3] for k in rows if k[2] == "dscp"} == {"ef", "be"}
    assert {r["sensor_id"] for r in rows.values()} == {"local"}
    assert all(r["tcp_retransmission_rate"] is None and r["rtt_p50_s"] is None for r in rows.values())
    assert rows[(10, 0, "all", "all")]["bps"] == 200 * 8 / 10 and rows[(10, 0, "all", "all")]["pps"] == 0.2


def test_empty_and_missing_columns() -> None:
    empty = qos_windows(pa.table({"ts_ns": pa.array([], pa.int64()), "flow_id": pa.array([], pa.int64())}), (10,))
    assert empty.num_rows == 0 and empty.schema.equals(WINDOW_SCHEMA)
    no_ts = qos_windows(pa.table({"ts_ns": pa.array([None], pa.int64()), "flow_id": pa.array([1], pa.int64())}), (10,))
    assert no_ts.num_rows == 0
    with pytest.raises(ValueError, match="flow_id"):
        qos_windows(pa.table({"ts_ns": pa.array([1], pa.int64())}), (10,))


# ------------------------------------------------------------------------------------------- real captures


def joined(packets: pa.Table, feats: Features) -> pa.Table:
    table = packets
    for name in feats.packets.column_names:
        if name not in table.column_names:
            table = table.append_column(name, feats.packets.column(name))
    return table


CAPTURES = {
    # capture: metrics that must be non-zero somewhere, so the comparison exercises them
    "zeek-ssh.pcap": ("tcp_retransmissions", "rtt_samples", "tcp_resets", "tcp_dup_acks"),
    "ndpi-FAX-Call-t38-CA-TDM-SIP-FB-1.pcap": ("jitter_samples",),
    "tcpreplay-test.pcap": ("icmp_unreachable", "tcp_retransmissions", "rtt_samples"),
    "zeek-communityid-icmp6.pcap": ("icmp_unreachable", "icmp_time_exceeded"),
    "aircrack-radiotap-test1.pcap": ("wlan_frames",),
    "zeek-206_example_b.pcap": ("tcp_out_of_order", "tcp_zero_window", "rtt_samples"),
    "zeek-ldap-gap-data-missing.pcapng": ("tcp_lost_segments",),
}


@pytest.mark.parametrize("name", sorted(CAPTURES))
def test_real_capture_windows_match_reference(name: str, featurized: Callable[[str], tuple]) -> None:
    packets, feats = featurized(name)
    got = feats.windows
    assert got.schema.equals(WINDOW_SCHEMA)
    assert set(got.column("window_s").to_pylist()) == {10, 60}
    assert_windows_match(got, reference_windows(joined(packets, feats), (10, 60)))
    for metric in CAPTURES[name]:
        assert sum(got.column(metric).to_pylist()) > 0, metric
    # every packet with a timestamp is in exactly one 'all' row per window length
    n_ts = packets.column("ts_ns").drop_null().length()
    for w in (10, 60):
        rows = [r for r in got.to_pylist() if r["window_s"] == w and r["dimension"] == "all"]
        assert sum(r["packets"] for r in rows) == n_ts


def test_wlan_signal_on_radiotap_capture(featurized: Callable[[str], tuple]) -> None:
    _, feats = featurized("aircrack-radiotap-test1.pcap")
    alls = [r for r in feats.windows.to_pylist() if r["dimension"] == "all"]
    assert any(r["wlan_signal_min_dbm"] is not None for r in alls)
    assert any(r["wlan_retry_rate"] is not None for r in alls)


# ------------------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"window_seconds": ()}, "at least one window"),
        ({"window_seconds": (7,)}, "divides 3600"),
        ({"window_seconds": (10, 7200)}, "divides 3600"),
        ({"window_seconds": (0,)}, "divides 3600"),
        ({"window_seconds": (-60,)}, "divides 3600"),
        ({"window_seconds": (10.0,)}, "divides 3600"),
        ({"window_seconds": (True,)}, "divides 3600"),
        ({"service_ports": {"all": (80,)}}, "reserved"),
        ({"service_ports": {"other": (80,)}}, "reserved"),
        ({"service_ports": {"icmp": (1,)}}, "reserved"),
        ({"service_ports": {"l2": (1,)}}, "reserved"),
        ({"service_ports": {"web": (80, 65536)}}, r"\[65536\]"),
        ({"service_ports": {"web": (-1, 80)}}, r"\[-1\]"),
    ],
)
def test_feature_config_validation(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FeatureConfig(**kwargs)


def test_feature_config_accepts_valid_values() -> None:
    cfg = FeatureConfig(window_seconds=(1, 5, 300, 3600), service_ports={"game": (27015,), "web": (0, 65535)})
    assert cfg.window_seconds == (1, 5, 300, 3600)
    assert FeatureConfig().window_seconds == (10, 60) and isinstance(FeatureConfig().flow, FlowConfig)
