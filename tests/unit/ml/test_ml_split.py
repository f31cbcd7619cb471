"""Time-ordered split: whole runs on one side, train strictly before test, misuse rejected."""

from __future__ import annotations

import pandas as pd  # type: ignore[import-untyped]
import pytest

from netqos.ml.dataset import time_split

S = 1_000_000_000


def _frame() -> pd.DataFrame:
    rows = []
    for i, run in enumerate(["a", "b", "c", "d"]):  # run i covers [100 i, 100 i + 50) s
        rows += [{"run": run, "window_start_ns": (100 * i + 10 * k) * S, "kind": "normal"} for k in range(5)]
    return pd.DataFrame(rows)


def test_latest_runs_are_the_test_set() -> None:
    train, test = time_split(_frame(), test_share=0.25)
    assert set(train["run"]) == {"a", "b", "c"}
    assert set(test["run"]) == {"d"}
    assert train["window_start_ns"].max() < test["window_start_ns"].min()


def test_named_test_runs_must_be_later() -> None:
    train, test = time_split(_frame(), test_runs=["c", "d"])
    assert set(train["run"]).isdisjoint(set(test["run"]))
    with pytest.raises(ValueError, match="in time"):
        time_split(_frame(), test_runs=["a"])  # b, c, d would be training on the future


def test_independent_runs_may_skip_the_time_check() -> None:
    train, test = time_split(_frame(), test_runs=["a"], train_first=False)
    assert set(test["run"]) == {"a"} and set(train["run"]) == {"b", "c", "d"}
