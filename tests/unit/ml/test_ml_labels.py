"""Window labels from impairment spans: the >= 50 % overlap rule, largest span wins, overlap kept."""

from __future__ import annotations

import numpy as np

from netqos.ml.labels import NORMAL, Span, label_windows

S = 1_000_000_000
W = 10 * S


def test_overlap_rule_and_largest_span_wins() -> None:
    starts = np.arange(0, 60 * S, W, dtype=np.int64)  # windows [0,10) [10,20) ... [50,60)
    spans = (Span("loss", 5 * S, 14 * S), Span("outage", 14 * S, 19 * S), Span("jitter", 32 * S, 36 * S))
    kinds, overlap, span = label_windows(starts, W, spans)
    # [0,10): loss covers 5 s = 50 % -> loss (the boundary counts)
    # [10,20): loss 4 s, outage 5 s -> outage wins with 50 %
    # [20,30): nothing; [30,40): jitter 4 s = 40 % -> normal but overlap kept
    assert list(kinds) == ["loss", "outage", NORMAL, NORMAL, NORMAL, NORMAL]
    np.testing.assert_allclose(overlap, [0.5, 0.5, 0.0, 0.4, 0.0, 0.0])
    assert list(span) == [0, 1, -1, 2, -1, -1]


def test_no_spans_all_normal() -> None:
    starts = np.arange(0, 30 * S, W, dtype=np.int64)
    kinds, overlap, span = label_windows(starts, W, ())
    assert list(kinds) == [NORMAL] * 3
    assert not overlap.any()
    assert (span == -1).all()


def test_span_longer_than_window_labels_every_covered_window() -> None:
    starts = np.arange(0, 40 * S, W, dtype=np.int64)
    kinds, overlap, _ = label_windows(starts, W, (Span("congestion", 8 * S, 33 * S),))
    assert list(kinds) == [NORMAL, "congestion", "congestion", NORMAL]
    np.testing.assert_allclose(overlap, [0.2, 1.0, 1.0, 0.3])
