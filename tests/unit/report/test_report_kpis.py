"""kpi_table and assess: the day beside the previous day and the baseline, computed from per-period sums."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from netqos.report.kpis import assess, kpi_table


def _sums(**overrides: object) -> pd.DataFrame:
    base = {"packets": 100, "tcp_segments": 50, "tcp_retransmissions": 1, "tcp_lost_segments": 0,
            "wlan_frames": 0, "wlan_retries": 0.0, "wlan_signal_dbm": None, "wlan_signal_min_dbm": None,
            "rtt_p50_s": 0.010, "rtt_p95_s": 0.040, "jitter_p95_s": None}  # fmt: skip
    rows = []
    for period, scale in (("day", 4), ("previous_day", 1), ("baseline", 1)):
        row = {"sensor_id": "s1", "class": "all", "period": period, **base}
        row["tcp_retransmissions"] = base["tcp_retransmissions"] * scale  # type: ignore[operator]
        rows.append(row | overrides.get(period, {}))  # type: ignore[operator]
    return pd.DataFrame(rows)


def test_each_kpi_has_day_previous_and_baseline() -> None:
    table = kpi_table(_sums())
    retrans = table[table["kpi"] == "retransmission_rate"].iloc[0]
    assert retrans["day"] == pytest.approx(4 / 50)
    assert retrans["previous_day"] == pytest.approx(1 / 50)
    assert retrans["baseline"] == pytest.approx(1 / 50)
    assert retrans["change_vs_baseline"] == pytest.approx(3.0)
    rtt = table[table["kpi"] == "rtt_p95_ms"].iloc[0]
    assert rtt["day"] == pytest.approx(40.0)
    # KPIs without a value in any period (wired link: no 802.11, TCP only: no jitter) are left out
    assert not {"wlan_retry_rate", "wlan_signal_dbm", "jitter_p95_ms"} & set(table["kpi"])


def test_rates_are_null_without_a_denominator() -> None:
    table = kpi_table(_sums(day={"tcp_segments": 0}))
    retrans = table[table["kpi"] == "retransmission_rate"].iloc[0]
    assert math.isnan(retrans["day"]) and retrans["baseline"] == pytest.approx(0.02)


def test_only_classes_with_traffic_on_the_day() -> None:
    sums = pd.concat([_sums(), _sums().assign(**{"class": "voip"}).query("period != 'day'")])
    assert set(kpi_table(sums)["class"]) == {"all"}


def test_empty_input_gives_the_columns() -> None:
    assert list(kpi_table(pd.DataFrame()).columns)[:3] == ["sensor_id", "class", "kpi"]


@pytest.mark.parametrize(
    ("kpi", "day", "baseline", "expected"),
    [
        ("rtt_p95_ms", 60.0, 40.0, "worse"),
        ("rtt_p95_ms", 41.0, 40.0, ""),
        ("rtt_p95_ms", 20.0, 40.0, "better"),
        ("retransmission_rate", 0.01, 0.0, "worse"),
        ("wlan_signal_dbm", -75.0, -60.0, "worse"),  # dBm compare by difference: 15 dB weaker
        ("wlan_signal_dbm", -62.0, -60.0, ""),
        ("packets", 10.0, 1000.0, ""),
        ("rtt_p95_ms", 60.0, None, ""),
    ],
)
def test_assess(kpi: str, day: float, baseline: float | None, expected: str) -> None:
    assert assess(kpi, day, baseline) == expected
