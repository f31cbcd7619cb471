"""Evaluation tables for terminals and logs (rich)."""

from __future__ import annotations

import numpy as np
from rich.console import Console
from rich.table import Table

from netqos.ml.evaluate import Evaluation, summary_rows

COLUMNS = ("kind", "windows", "flagged", "precision", "recall", "F1", "P vs normal", "F1 vs normal", "spans det.",
           "median delay")  # fmt: skip


def print_evaluation(console: Console, title: str, ev: Evaluation) -> None:
    """One row per impairment kind and overall; delays in windows ('-' when no span was detected)."""
    table = Table(title=title)
    for col in COLUMNS:
        table.add_column(col, justify="left" if col == "kind" else "right")
    for r in summary_rows(ev):
        table.add_row(
            r["kind"], str(r["windows"]), str(r["flagged"]), f"{r['precision']:.2f}", f"{r['recall']:.2f}",
            f"{r['f1']:.2f}", f"{r['precision_vs_normal']:.2f}", f"{r['f1_vs_normal']:.2f}", r["spans"],
            "-" if np.isnan(r["median_delay"]) else f"{r['median_delay']:.1f}",
        )  # fmt: skip
    console.print(table)
    console.print(f"false alarms {ev.false_alarms}/{ev.normal_windows} normal windows; "
                  f"{ev.ambiguous_windows} partly impaired windows not counted")  # fmt: skip
