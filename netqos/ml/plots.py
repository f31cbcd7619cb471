"""Evaluation figures (matplotlib, headless): PR curve and score timeline with labelled spans shaded."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers/CI; must precede pyplot
import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt
import pandas as pd  # type: ignore[import-untyped]
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from sklearn.metrics import average_precision_score, precision_recall_curve  # type: ignore[import-untyped]

from netqos.ml.labels import NORMAL, LabRun

KIND_COLORS = {
    "congestion": "tab:red", "loss": "tab:orange", "latency": "tab:purple", "jitter": "tab:pink",
    "outage": "black", "slow_server": "tab:brown",
}  # fmt: skip


def pr_curve(data: pd.DataFrame, scores: dict[str, npt.NDArray[np.float64]], ambiguous_out: bool = True) -> Figure:
    """Precision-recall curves of several models on the same windows (any kind vs normal)."""
    keep = ~((data["kind"] == NORMAL) & (data["overlap"] > 0)) if ambiguous_out else np.ones(len(data), bool)
    y = (data["kind"] != NORMAL).to_numpy()[keep]
    fig, ax = plt.subplots(figsize=(5, 4.5))
    for name, s in scores.items():
        p, r, _ = precision_recall_curve(y, s[keep])
        ax.plot(r, p, label=f"{name} (AP {average_precision_score(y, s[keep]):.2f})")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower left")
    ax.set_title("impaired vs normal windows")
    fig.tight_layout()
    return fig


def score_timeline(
    data: pd.DataFrame, scores: npt.NDArray[np.float64], threshold: float, runs: Sequence[LabRun], title: str
) -> Figure:
    """One panel per run: score per window, threshold line, impairment spans shaded by kind."""
    fig, axes = plt.subplots(len(runs), 1, figsize=(10, 2.3 * len(runs)), squeeze=False)
    for ax, run in zip(axes[:, 0], runs, strict=True):
        m = (data["run"] == run.name).to_numpy()
        t = (data["window_start_ns"].to_numpy()[m] - run.start_ns) / 1e9
        w = float(data["window_s"].iloc[0])
        ax.step(t, scores[m], where="post", color="tab:blue", lw=1.2)
        ax.axhline(threshold, color="grey", ls="--", lw=0.8)
        for sp in run.spans:
            ax.axvspan((sp.start_ns - run.start_ns) / 1e9, (sp.end_ns - run.start_ns) / 1e9,
                       color=KIND_COLORS.get(sp.kind, "grey"), alpha=0.25, lw=0)  # fmt: skip
        ax.set_xlim(0, (run.end_ns - run.start_ns) / 1e9 + w)
        ax.set_ylabel(run.name, fontsize=8)
    handles = [Rectangle((0, 0), 1, 1, color=c, alpha=0.3) for c in KIND_COLORS.values()]
    fig.legend(handles, list(KIND_COLORS), loc="upper center", ncol=len(KIND_COLORS), fontsize=7)
    axes[-1, 0].set_xlabel("seconds since run start")
    fig.suptitle(title, y=0.995, fontsize=9, x=0.05, ha="left")
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    return fig


def save(figures: dict[str, Figure], out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, fig in figures.items():
        path = out_dir / f"{name}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths
