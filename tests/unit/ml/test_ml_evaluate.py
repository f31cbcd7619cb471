"""Evaluation metrics on a hand-made example with hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

from netqos.ml.evaluate import evaluate

S = 1_000_000_000


def _data() -> pd.DataFrame:
    # run r, 12 windows of 10 s. Spans: 0 = congestion windows 1-3, 1 = loss windows 6-7, 2 = outage window 10.
    # Window 4 is touched by span 0 (overlap 0.2): ambiguous. Window 9 is touched by span 2 (0.3): ambiguous.
    kind = ["normal", "congestion", "congestion", "congestion", "normal", "normal",
            "loss", "loss", "normal", "normal", "outage", "normal"]  # fmt: skip
    overlap = [0, 1, 1, 0.6, 0.2, 0, 1, 0.7, 0, 0.3, 0.8, 0]
    span = [-1, 0, 0, 0, 0, -1, 1, 1, -1, 2, 2, -1]
    return pd.DataFrame({
        "run": "r", "window_start_ns": np.arange(12, dtype=np.int64) * 10 * S, "window_s": 10,
        "kind": kind, "overlap": overlap, "span": span,
    })  # fmt: skip


FLAGS = np.array([0, 0, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0], dtype=bool)


def test_hand_computed_scores() -> None:
    ev = evaluate(_data(), FLAGS)
    # clean normal windows: 0, 5, 8, 11 -> false alarm on 5 only; ambiguous 4 and 9 do not count.
    assert (ev.false_alarms, ev.normal_windows, ev.ambiguous_windows) == (1, 4, 2)
    by = {k.kind: k for k in ev.kinds}
    # overall: 3 of 6 positives flagged, 1 false alarm -> P 3/4, R 1/2, F1 0.6
    o = ev.overall
    assert math.isclose(o.precision, 0.75) and math.isclose(o.recall, 0.5) and math.isclose(o.f1, 0.6)
    # congestion: 2 of 3 flagged; precision = overall 3/4 -> F1 2 * 3/4 * 2/3 / (3/4 + 2/3) = 12/17
    c = by["congestion"]
    assert (c.windows, c.flagged) == (3, 2)
    assert math.isclose(c.recall, 2 / 3) and math.isclose(c.precision, 0.75) and math.isclose(c.f1, 12 / 17)
    # ... against normal windows only: 2 / (2 + 1) -> F1 2/3
    assert math.isclose(c.precision_vs_normal, 2 / 3) and math.isclose(c.f1_vs_normal, 2 / 3)
    # loss: 1 of 2 flagged -> F1 2 * 3/4 * 1/2 / (5/4) = 0.6; vs normal: P 1/2 -> F1 1/2
    assert math.isclose(by["loss"].recall, 0.5) and math.isclose(by["loss"].f1, 0.6)
    assert math.isclose(by["loss"].f1_vs_normal, 0.5)
    # outage: missed -> recall 0, F1 0 either way
    assert by["outage"].recall == 0 and by["outage"].f1 == 0 and by["outage"].f1_vs_normal == 0


def test_detection_delay() -> None:
    ev = evaluate(_data(), FLAGS)
    d = ev.delays.set_index("span")["delay"]
    # span 0 starts in window 1, first flag window 2 -> 1; span 1 flagged in its first window -> 0;
    # span 2 starts in window 9 (ambiguous, but flagged) -> 0: the alarm came in the window where it began.
    assert d[0] == 1 and d[1] == 0 and d[2] == 0
    by = {k.kind: k for k in ev.kinds}
    assert by["congestion"].median_delay == 1
    assert ev.overall.median_delay == 0 and ev.overall.detected_spans == 3


def test_missed_span_has_no_delay() -> None:
    ev = evaluate(_data(), np.zeros(12, dtype=bool))
    assert ev.delays["delay"].isna().all()
    assert math.isnan(ev.overall.median_delay) and ev.overall.f1 == 0
    assert ev.metrics()["overall_recall"] == 0
