"""Model input from qos_windows rows: gap filling between windows and the per-service / deviation columns."""

from __future__ import annotations

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

from netqos.ml.dataset import MAX_GAP_WINDOWS, feature_columns, window_features, window_grid

S = 1_000_000_000


def _rows(starts_s: list[int], window_s: int = 10) -> pd.DataFrame:
    rows = []
    for t in starts_s:
        rows.append({"window_s": window_s, "window_start_ns": t * S, "dimension": "all", "class": "all",
                     "packets": 100, "pps": 10.0, "bps": 8000.0, "rtt_p95_s": 0.02})  # fmt: skip
        rows.append({"window_s": window_s, "window_start_ns": t * S, "dimension": "service", "class": "voip",
                     "packets": 50, "pps": 5.0, "bps": 1000.0, "rtt_p95_s": None})  # fmt: skip
    return pd.DataFrame(rows)


def test_short_gaps_become_empty_windows_long_ones_do_not() -> None:
    long_gap = (MAX_GAP_WINDOWS + 1) * 10
    grid = window_grid(_rows([0, 10, 40, 50 + long_gap]), 10)
    assert list(grid // S) == [0, 10, 20, 30, 40, 50 + long_gap]


def test_window_features_fill_counts_pivot_services_and_look_back_only() -> None:
    w = _rows([0, 10, 20, 40])
    f = window_features(w, 10, window_grid(w, 10))
    assert list(f.columns) == ["window_start_ns", *feature_columns()[: len(f.columns) - 1]] or set(f.columns) >= {
        "window_start_ns", "pps", "voip_pps", "pps_dev"}  # fmt: skip
    by_t = f.set_index(f["window_start_ns"] // S)
    assert by_t.loc[30, "packets"] == 0 and by_t.loc[30, "pps"] == 0  # the empty window: counts 0
    assert np.isnan(by_t.loc[30, "rtt_p95_s"])  # ... and no RTT
    assert by_t.loc[10, "voip_pps"] == 5.0
    assert by_t.loc[0, "pps_dev"] == 0.0  # no past yet
    assert by_t.loc[30, "pps_dev"] < -2  # a drop against the previous windows
    assert by_t.loc[40, "pps_dev"] == 0.0  # back to the median of the previous windows (10, 10, 10, 0)
