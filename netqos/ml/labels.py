"""Labels of QoS windows from lab impairment spans (labels.json)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

NORMAL = "normal"
# A window takes a span's kind only if the span covers at least this share of it: a window touched by the
# edge of an impairment is neither clearly normal nor clearly impaired, so we record the overlap either way.
MIN_OVERLAP = 0.5


@dataclass(frozen=True)
class Span:
    kind: str
    start_ns: int
    end_ns: int


@dataclass(frozen=True)
class LabRun:
    """What labels.json says about one lab run."""

    name: str
    path: Path
    scenario: str
    seed: int
    start_ns: int
    end_ns: int
    spans: tuple[Span, ...]

    @classmethod
    def load(cls, run_dir: Path) -> LabRun:
        doc = json.loads((run_dir / "labels.json").read_text())
        spans = tuple(Span(i["kind"], int(i["start_ns"]), int(i["end_ns"])) for i in doc.get("impairments", []))
        return cls(
            run_dir.name, run_dir, doc["scenario"], int(doc["seed"]), int(doc["run_start_ns"]),
            int(doc["run_end_ns"]), spans,
        )  # fmt: skip


def label_windows(
    starts_ns: npt.NDArray[np.int64], window_ns: int, spans: tuple[Span, ...], min_overlap: float = MIN_OVERLAP
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Per window: (kind, overlap share of the window in [0, 1], index of the span or -1).

    The span with the largest overlap wins; the window is labelled with its kind when that overlap is at least
    `min_overlap` of the window, else "normal" (the overlap is still returned, so callers can drop ambiguous
    windows). Windows x spans is small (minutes of lab, a handful of spans), so a dense matrix is fine.
    """
    n = len(starts_ns)
    kinds = np.full(n, NORMAL, dtype=object)
    if not spans or n == 0:
        return kinds, np.zeros(n), np.full(n, -1, dtype=np.int64)
    s = np.array([sp.start_ns for sp in spans], dtype=np.int64)
    e = np.array([sp.end_ns for sp in spans], dtype=np.int64)
    ws = starts_ns.astype(np.int64)[:, None]
    overlap = np.clip(np.minimum(ws + window_ns, e[None, :]) - np.maximum(ws, s[None, :]), 0, None)
    best = overlap.argmax(axis=1)
    share = overlap[np.arange(n), best] / window_ns
    span_idx = np.where(share > 0, best, -1).astype(np.int64)
    hit = share >= min_overlap
    kinds[hit] = np.array([spans[i].kind for i in best[hit]], dtype=object)
    return kinds, share.astype(np.float64), span_idx
