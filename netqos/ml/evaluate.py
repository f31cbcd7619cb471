"""Window-level evaluation of a detector against lab labels: P/R/F1 per kind and overall, detection delay.

Definitions (docs/models.md):
- a window is positive when labelled with an impairment kind (>= 50 % covered by its span);
- windows labelled "normal" but partly covered by a span (0 < overlap < 50 %) are ambiguous: they count as
  neither true nor false alarms (an impairment's edge or its aftermath), unless `ignore_partial=False`;
- per kind: recall = flagged windows of that kind / windows of that kind; precision = the overall precision
  (an alarm does not name a kind), F1 from the two (issue 6's definition). Stricter, also reported:
  precision_vs_normal = that kind's true alarms / (those + all false alarms), i.e. P/F1 on {kind} + {normal}
  windows, which charges every false alarm to every kind (harsh on rare kinds);
- overall: any kind vs normal;
- detection delay of a span: windows from the one holding the span start to the first flagged window
  (0 = flagged in the window where it starts); a span never flagged is "missed", not in the median.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd  # type: ignore[import-untyped]

from netqos.ml.labels import MIN_OVERLAP, NORMAL


@dataclass
class KindScore:
    kind: str
    windows: int
    flagged: int
    precision: float
    recall: float
    f1: float
    precision_vs_normal: float = float("nan")
    f1_vs_normal: float = float("nan")
    spans: int = 0
    detected_spans: int = 0
    median_delay: float = float("nan")


@dataclass
class Evaluation:
    overall: KindScore
    kinds: list[KindScore]
    false_alarms: int
    normal_windows: int
    ambiguous_windows: int
    delays: pd.DataFrame = field(repr=False)

    def metrics(self) -> dict[str, float]:
        """Flat metric names (loggable as-is): overall_f1, congestion_recall, loss_median_delay, ..."""
        out: dict[str, float] = {"false_alarm_rate": self.false_alarms / max(self.normal_windows, 1)}
        for s in [self.overall, *self.kinds]:
            for name in ("precision", "recall", "f1", "precision_vs_normal", "f1_vs_normal", "median_delay"):
                out[f"{s.kind}_{name}"] = float(getattr(s, name))
            out[f"{s.kind}_windows"] = float(s.windows)
        return out


def _prf(tp: int, positives: int, fp: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / positives if positives else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if positives and precision + recall else 0.0
    return precision, recall, f1


def evaluate(data: pd.DataFrame, flagged: npt.NDArray[np.bool_], *, ignore_partial: bool = True) -> Evaluation:
    """`data`: rows of netqos.ml.dataset (kind, overlap, span, run, window_start_ns); `flagged`: per row."""
    kind = data["kind"].to_numpy()
    flag = np.asarray(flagged, dtype=bool)
    normal = kind == NORMAL
    ambiguous = normal & (data["overlap"].to_numpy() > 0) & ignore_partial
    clean_normal = normal & ~ambiguous
    fp = int((flag & clean_normal).sum())
    positive = ~normal
    tp_all = int((flag & positive).sum())
    p, r, f = _prf(tp_all, int(positive.sum()), fp)
    delays = detection_delays(data, flag)
    overall = KindScore("overall", int(positive.sum()), tp_all, p, r, f, p, f)
    _add_delays(overall, delays)
    kinds = []
    for k in sorted(set(kind[positive])):
        m = kind == k
        tp = int((flag & m).sum())
        recall = tp / int(m.sum())
        f1 = 2 * p * recall / (p + recall) if p + recall else 0.0
        p_strict, _, f1_strict = _prf(tp, int(m.sum()), fp)
        score = KindScore(k, int(m.sum()), tp, p, recall, f1, p_strict, f1_strict)
        _add_delays(score, delays[delays["kind"] == k])
        kinds.append(score)
    return Evaluation(overall, kinds, fp, int(clean_normal.sum()), int(ambiguous.sum()), delays)


def _add_delays(score: KindScore, delays: pd.DataFrame) -> None:
    score.spans = len(delays)
    hit = delays["delay"].dropna()
    score.detected_spans = len(hit)
    score.median_delay = float(hit.median()) if len(hit) else float("nan")


def detection_delays(data: pd.DataFrame, flagged: npt.NDArray[np.bool_]) -> pd.DataFrame:
    """One row per labelled span (run, span, kind): delay in windows to the first flagged window, NaN if missed.

    Only spans that fill at least one window to MIN_OVERLAP count: a 3 s blip inside a 10 s window is below
    what the window labels can say, so it is neither detected nor missed."""
    d = data[["run", "span", "kind", "overlap", "window_start_ns"]].copy()
    d["flag"] = np.asarray(flagged, dtype=bool)
    d = d[d["span"] >= 0].sort_values(["run", "span", "window_start_ns"])
    d["pos"] = d.groupby(["run", "span"]).cumcount()
    labelled = d[d["overlap"] >= MIN_OVERLAP].groupby(["run", "span"])["kind"].first()
    first_flag = d[d["flag"]].groupby(["run", "span"])["pos"].min()
    out = labelled.to_frame().join(first_flag.rename("delay"))
    return out.reset_index()[["run", "span", "kind", "delay"]]


def summary_rows(ev: Evaluation) -> list[dict[str, Any]]:
    """Table rows (kind, windows, flagged, P, R, F1, spans detected, median delay) for printing/logging."""
    return [
        {
            "kind": s.kind,
            "windows": s.windows,
            "flagged": s.flagged,
            "precision": s.precision,
            "recall": s.recall,
            "f1": s.f1,
            "precision_vs_normal": s.precision_vs_normal,
            "f1_vs_normal": s.f1_vs_normal,
            "spans": f"{s.detected_spans}/{s.spans}",
            "median_delay": s.median_delay,
        }
        for s in [*ev.kinds, ev.overall]
    ]
