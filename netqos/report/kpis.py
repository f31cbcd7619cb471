"""The QoS KPIs of the report, declared once: how each is computed from the per-period sums and how it reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

PERIODS = ("day", "previous_day", "baseline")


def _ratio(num: str, den: str) -> Callable[[pd.DataFrame], pd.Series]:
    def f(df: pd.DataFrame) -> pd.Series:
        d = df[den].astype("float64")
        return (df[num].astype("float64") / d.where(d > 0)).astype("float64")

    return f


def _column(name: str, scale: float = 1.0) -> Callable[[pd.DataFrame], pd.Series]:
    def f(df: pd.DataFrame) -> pd.Series:
        return (df[name].astype("float64") * scale) if name in df else pd.Series(np.nan, index=df.index)

    return f


@dataclass(frozen=True)
class Kpi:
    name: str
    label: str
    unit: str  # "ms", "%", "dBm", "" (a count)
    value: Callable[[pd.DataFrame], pd.Series]
    higher_is_worse: bool = True


KPIS = (
    Kpi("packets", "packets", "", _column("packets"), higher_is_worse=False),
    Kpi("rtt_p50_ms", "TCP RTT p50", "ms", _column("rtt_p50_s", 1000)),
    Kpi("rtt_p95_ms", "TCP RTT p95", "ms", _column("rtt_p95_s", 1000)),
    Kpi("retransmission_rate", "TCP retransmissions", "%", _ratio("tcp_retransmissions", "tcp_segments")),
    # TCP segments lost before the sensor (a sequence gap): loss upstream of the capture point.
    Kpi("loss_rate", "TCP loss (lost segments)", "%", _ratio("tcp_lost_segments", "tcp_segments")),
    Kpi("jitter_p95_ms", "UDP jitter p95", "ms", _column("jitter_p95_s", 1000)),
    Kpi("wlan_retry_rate", "802.11 retries", "%", _ratio("wlan_retries", "wlan_frames")),
    Kpi("wlan_signal_dbm", "802.11 signal (mean)", "dBm", _column("wlan_signal_dbm"), higher_is_worse=False),
    Kpi("wlan_signal_min_dbm", "802.11 signal (min)", "dBm", _column("wlan_signal_min_dbm"), higher_is_worse=False),
)
CHANGE_THRESHOLD = 0.2  # a KPI 20 % off its baseline is marked worse / better
SIGNAL_THRESHOLD_DB = 5.0  # dBm are negative: compare by difference, not by ratio


def assess(kpi: str, day: float | None, baseline: float | None) -> str:
    """'worse', 'better' or '' for one KPI value against its baseline (the report colours the cell)."""
    spec = next((k for k in KPIS if k.name == kpi), None)
    if spec is None or spec.name == "packets" or day is None or baseline is None:
        return ""
    if np.isnan(day) or np.isnan(baseline):
        return ""
    if spec.unit == "dBm":
        delta = day - baseline
        return "worse" if delta < -SIGNAL_THRESHOLD_DB else "better" if delta > SIGNAL_THRESHOLD_DB else ""
    if baseline == 0:
        return "worse" if day > 0 and spec.higher_is_worse else ""
    change = day / baseline - 1
    if abs(change) <= CHANGE_THRESHOLD:
        return ""
    return "worse" if (change > 0) == spec.higher_is_worse else "better"


KPI_COLUMNS = ["sensor_id", "class", "kpi", "label", "unit", *PERIODS, "change_vs_baseline"]


def kpi_table(sums: pd.DataFrame) -> pd.DataFrame:
    """One row per (sensor, class, KPI) with the value of the day, the previous day and the baseline side by side.

    `sums`: one row per (sensor_id, class, period) of additive counters and percentiles (collect._kpis). Only
    (sensor, class) pairs with traffic on the day, and KPIs with a value in some period, are kept.
    change_vs_baseline: day / baseline - 1 (null when the baseline is 0 or missing).
    """
    if sums.empty:
        return pd.DataFrame(columns=KPI_COLUMNS)
    long = []
    for kpi in KPIS:
        values = sums[["sensor_id", "class", "period"]].copy()
        values["kpi"] = kpi.name
        values["value"] = kpi.value(sums)
        long.append(values)
    wide = (
        pd.concat(long, ignore_index=True)
        .pivot_table(
            index=["sensor_id", "class", "kpi"], columns="period", values="value", aggfunc="first", dropna=False
        )
        .reindex(columns=list(PERIODS))
        .reset_index()
    )
    wide.columns.name = None
    on_day = sums.loc[sums["period"] == "day", ["sensor_id", "class"]].drop_duplicates()
    wide = wide.merge(on_day, on=["sensor_id", "class"])
    wide = wide[wide[list(PERIODS)].notna().any(axis=1)]
    meta = pd.DataFrame([(k.name, k.label, k.unit, i) for i, k in enumerate(KPIS)],
                        columns=["kpi", "label", "unit", "order"])  # fmt: skip
    wide = wide.merge(meta, on="kpi")
    base = wide["baseline"].where(wide["baseline"] != 0)
    wide["change_vs_baseline"] = wide["day"] / base - 1
    # 'all' first, then classes by name; KPIs in declaration order
    wide["class_order"] = (wide["class"] != "all").astype(int)
    wide = wide.sort_values(["sensor_id", "class_order", "class", "order"]).reset_index(drop=True)
    return wide[KPI_COLUMNS]
